#pragma once

#include <cstdint>

namespace Gateway::Sim::Fleet {

// Virtual time of the fleet simulator, in microseconds since the start of a run. Nothing
// in the simulator reads a real clock (except the router's decision-cost measurement,
// which is reported apart and never feeds back into the simulation).
using SimTime = std::int64_t;

constexpr SimTime MICROS_PER_MILLI = 1000;
constexpr SimTime MICROS_PER_SECOND = 1000 * MICROS_PER_MILLI;

constexpr double toSeconds(SimTime t)
{
    return static_cast<double>(t) / static_cast<double>(MICROS_PER_SECOND);
}

constexpr SimTime fromSeconds(double seconds)
{
    return static_cast<SimTime>(seconds * static_cast<double>(MICROS_PER_SECOND));
}

} // namespace Gateway::Sim::Fleet
