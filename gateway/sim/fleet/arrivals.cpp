#include "arrivals.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace Gateway::Sim::Fleet {

double exponentialDraw(Routing::Rng &rng, double mean)
{
    return -std::log1p(-rng.uniform()) * mean;
}

double normalDraw(Routing::Rng &rng, double mean, double stddev)
{
    const double u1 = 1.0 - rng.uniform(); // (0, 1]: log() stays finite
    const double u2 = rng.uniform();
    return mean + stddev * std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

std::vector<SimTime> poissonArrivals(Routing::Rng &rng, double rate, SimTime horizon)
{
    std::vector<SimTime> arrivals;
    if (!(rate > 0.0)) {
        return arrivals;
    }
    arrivals.reserve(static_cast<std::size_t>(rate * toSeconds(horizon) * 1.1) + 16);
    const double meanGap = static_cast<double>(MICROS_PER_SECOND) / rate;
    double t = exponentialDraw(rng, meanGap);
    while (t < static_cast<double>(horizon)) {
        arrivals.push_back(static_cast<SimTime>(t));
        t += exponentialDraw(rng, meanGap);
    }
    return arrivals;
}

std::vector<SimTime> rampArrivals(Routing::Rng &rng, double startRate, double endRate, SimTime horizon)
{
    const double peak = std::max(startRate, endRate);
    std::vector<SimTime> arrivals;
    if (!(peak > 0.0) || horizon <= 0) {
        return arrivals;
    }
    for (const SimTime t : poissonArrivals(rng, peak, horizon)) {
        const double fraction = static_cast<double>(t) / static_cast<double>(horizon);
        const double rate = startRate + (endRate - startRate) * fraction;
        if (rng.uniform() * peak < rate) {
            arrivals.push_back(t);
        }
    }
    return arrivals;
}

} // namespace Gateway::Sim::Fleet
