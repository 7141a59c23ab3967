#pragma once

#include "simtime.h"

#include "routing/rng.h"

#include <vector>

namespace Gateway::Sim::Fleet {

// Arrival instants of open-loop load: the same seed gives the same instants, whatever
// the servers or the policy do (a closed loop would let the policy under test shape its
// own input).

// Homogeneous Poisson process of `rate` arrivals per second over [0, horizon).
std::vector<SimTime> poissonArrivals(Routing::Rng &rng, double rate, SimTime horizon);

// Poisson process whose rate grows linearly from startRate to endRate over [0, horizon)
// (the llm-d benchmark's stepped 3 -> 60 QPS ladder, made smooth); by thinning a process
// at the peak rate (Lewis & Shedler, 1979).
std::vector<SimTime> rampArrivals(Routing::Rng &rng, double startRate, double endRate, SimTime horizon);

// Exponential draw with the given mean; normal draw (Box-Muller).
double exponentialDraw(Routing::Rng &rng, double mean);
double normalDraw(Routing::Rng &rng, double mean, double stddev);

} // namespace Gateway::Sim::Fleet
