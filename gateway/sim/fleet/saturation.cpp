#include "saturation.h"

#include <algorithm>
#include <cmath>

namespace Gateway::Sim::Fleet {

namespace {

constexpr double GUESS_RATE = 10.0; // only to sample the request mix for the first guess

double analyticRate(const FleetConfig &fleet, const Workload &sample)
{
    if (sample.requests.empty()) {
        return 1.0;
    }
    double prompt = 0.0;
    double output = 0.0;
    for (const SimRequest &r : sample.requests) {
        prompt += r.promptTokens;
        output += r.outputTokens;
    }
    prompt /= static_cast<double>(sample.requests.size());
    output /= static_cast<double>(sample.requests.size());
    ServerConfig server = fleet.server;
    if (sample.kvBlocksPerServer) {
        server.numGpuBlocks = *sample.kvBlocksPerServer;
    }
    const double blocksPerRequest = std::ceil((prompt + output) / server.blockSize);
    const double batch = std::max(1.0, std::min<double>(server.maxNumSeqs, server.numGpuBlocks / blocksPerRequest));
    const StepCoefficients &beta = server.step;
    const double perRequestMicros = beta.beta1 * prompt + output * (beta.beta0 / batch + beta.beta2);
    return fleet.servers * static_cast<double>(MICROS_PER_SECOND) / perRequestMicros;
}

} // namespace

SaturationEstimate findRoundRobinSaturation(const SaturationSearch &search)
{
    WorkloadSpec spec = search.workload;
    spec.burst = false;
    spec.constantRate = true;
    spec.servers = search.fleet.servers;
    spec.rate = GUESS_RATE;
    SaturationEstimate estimate;
    estimate.analyticRate = analyticRate(search.fleet, generateWorkload(spec));
    double offered = 2.0 * estimate.analyticRate;
    const SimTime windowStart = spec.horizon / 3;
    // The fleet's capacity under one round-robin router: the yardstick of offered load
    // stays the same whatever number of gateway replicas is then compared.
    FleetConfig fleet = search.fleet;
    fleet.replicas = 1;
    for (int round = 1; round <= SaturationSearch::MAX_ROUNDS; ++round) {
        spec.rate = offered;
        const Workload workload = generateWorkload(spec);
        FleetSimulation simulation(fleet, workload);
        auto policy = makeFleetPolicy("round_robin", simulation.policyEnvironment());
        const RunRecord record = simulation.run(*policy);
        int completedInWindow = 0;
        for (const RequestOutcome &r : record.requests) {
            if (r.fate == RequestFate::Completed && r.finished >= windowStart && r.finished < spec.horizon) {
                ++completedInWindow;
            }
        }
        const double completionRate = completedInWindow / toSeconds(spec.horizon - windowStart);
        estimate.rounds = round;
        estimate.offeredRate = offered;
        estimate.rate = completionRate;
        if (completionRate < SaturationSearch::KEPT_UP * offered) {
            break;
        }
        offered *= 2.0;
    }
    return estimate;
}

} // namespace Gateway::Sim::Fleet
