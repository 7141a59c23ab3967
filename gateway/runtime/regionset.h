#pragma once

#include <QByteArray>
#include <QStringList>

#include <cstdint>

namespace Gateway::Runtime {

// The regions a request may be served in, as a bit per region name of the policy
// (RegionCatalog): one AND per restriction, one test per target while planning.
// Unrestricted is its own state, so "restricted to nothing" (an empty intersection,
// e.g. a key in eu on a route in us) refuses everything instead of allowing it.
struct RegionSet {
    std::uint64_t bits = 0;
    bool restricted = false;

    static RegionSet unrestricted() { return {}; }
    static RegionSet only(std::uint64_t bits) { return {bits, true}; }

    RegionSet intersected(const RegionSet &other) const
    {
        if (!restricted) {
            return other;
        }
        if (!other.restricted) {
            return *this;
        }
        return only(bits & other.bits);
    }
    // A target in no region (bit 0) is outside every restricted set.
    bool allows(std::uint64_t regionBit) const { return !restricted || (bits & regionBit) != 0; }

    bool operator==(const RegionSet &) const = default;
};

// The policy's region names and their bits (at most Config::MAX_REGIONS, checked when
// the policy is validated).
class RegionCatalog final {
public:
    // The bit of `name`, adding it on first use; 0 for an empty name (no region).
    std::uint64_t bitOf(const QString &name);
    RegionSet setOf(const QStringList &names); // empty list = unrestricted
    // "eu, us" for error messages and the explanation; "none" for an empty restriction.
    QByteArray describe(const RegionSet &set) const;
    // The name of a single bit (a target's region), empty for 0.
    QByteArray nameOf(std::uint64_t regionBit) const;

private:
    QStringList m_names;
};

} // namespace Gateway::Runtime
