#pragma once

#include "fleetdriver.h"
#include "workloads.h"

namespace Gateway::Sim::Fleet {

// The offered load of the benchmark is a fraction of the fleet's round-robin saturation
// point: the request rate above which round robin can no longer keep up on that
// workload. Found by measurement, not by formula, because prefix caching changes a
// server's capacity by up to an order of magnitude depending on the workload:
//  1. An analytic first guess, with no caching at all: each server prefills a request's
//     prompt in beta1 x P and shares decode steps among a full batch B (limited by
//     max_num_seqs and by KV blocks per request): rate0 = N / (beta1 P + O (beta0 / B + beta2)).
//  2. Round robin is run on the workload at a constant Poisson rate of 2 x rate0; the
//     completion rate is measured over the last two thirds of the horizon (after warm-up).
//     If it kept up with the offer (>= 90% of it) the fleet was not saturated: the offer
//     doubles and the run repeats (at most MAX_ROUNDS times).
//  3. The saturation rate is the completion rate of the first saturated run: the
//     throughput round robin sustains with a permanently full batch.
struct SaturationEstimate {
    double rate = 0.0;         // requests per second
    double analyticRate = 0.0; // the first guess
    double offeredRate = 0.0;  // the overload it was measured at
    int rounds = 0;
};

struct SaturationSearch {
    static constexpr int MAX_ROUNDS = 6;
    static constexpr double KEPT_UP = 0.9;

    FleetConfig fleet;     // replicas is ignored: saturation is measured behind one router
    WorkloadSpec workload; // kind, seed, horizon, servers; rate and shape are set by the search
};

SaturationEstimate findRoundRobinSaturation(const SaturationSearch &search);

} // namespace Gateway::Sim::Fleet
