#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

namespace Gateway::Routing {

// One candidate's sort key for the strategies that rank by a computed value. Lower ranks
// first: by tier, then primary, then secondary, then the buffer's tie-break (see
// RankKeyBuffer). No default member initialisers on purpose: RankKeyBuffer keeps an
// uninitialised inline array of them, so creating the buffer costs nothing per call.
struct RankKey {
    int tier;         // coarse class compared first (e.g. 1 = misses a latency bound)
    int index;        // target index
    double primary;   // the strategy's value: load, latency, cost
    double secondary; // first tie-breaker
};

// Per-call scratch space that selects the best `count` of a rank() call's candidates
// without heap allocation. With count == 1 (the common case) it keeps only the best key
// seen so far: one pass, no storage, no selection step. Otherwise keys live in an inline
// array (on the caller's stack) up to INLINE_CAPACITY candidates, larger candidate sets
// fall back to the heap, and appendBest() selects `count` of them (partial sort, O(n log k)).
//
// Exact ties (same tier, primary and secondary) are ordered by target index, or, with a
// random seed, by a SplitMix64 hash of seed and index: a uniformly random order from one
// Rng draw per rank() call, computed only when two keys actually tie.
//
// One buffer per rank() call, never shared: the policies using it keep no shared state.
// Methods used per candidate are defined here so they inline into the policies' loops.
class RankKeyBuffer {
public:
    // Routes rarely have more targets than this; beyond it one allocation per call is fine.
    static constexpr std::size_t INLINE_CAPACITY = 64;

    enum class Ties : std::uint8_t { ByIndex, Random };

    // Room for `candidateCount` keys, of which appendBest() will return
    // choiceCount(maxChoices, keys added).
    RankKeyBuffer(std::size_t candidateCount, int maxChoices, Ties ties = Ties::ByIndex, std::uint64_t tieSeed = 0);
    RankKeyBuffer(const RankKeyBuffer &) = delete;
    RankKeyBuffer &operator=(const RankKeyBuffer &) = delete;

    void add(int tier, double primary, double secondary, int index)
    {
        // NaN would break the strict weak ordering the selection relies on: it ranks last.
        const RankKey key {tier, index, orderable(primary), orderable(secondary)};
        if (m_bestOnly) {
            if (m_size++ == 0 || less(key, m_best)) {
                m_best = key;
            }
            return;
        }
        m_data[m_size++] = key;
    }

    std::size_t size() const { return m_size; }
    // The keys added so far, in insertion order; only when constructed with maxChoices > 1
    // (best-only mode keeps just one).
    std::span<RankKey> keys() { return m_bestOnly ? std::span<RankKey> {} : std::span<RankKey> {m_data, m_size}; }

    // Appends the target indices of the best keys to order, best first.
    void appendBest(std::vector<int> &order);

    bool less(const RankKey &a, const RankKey &b) const
    {
        if (a.tier != b.tier) {
            return a.tier < b.tier;
        }
        if (a.primary != b.primary) {
            return a.primary < b.primary;
        }
        if (a.secondary != b.secondary) {
            return a.secondary < b.secondary;
        }
        if (m_ties == Ties::Random) {
            // Distinct indices give distinct hashes (an odd multiplier and the finaliser
            // are both bijections), so the order stays total.
            return tieBreak(m_tieSeed, a.index) < tieBreak(m_tieSeed, b.index);
        }
        return a.index < b.index;
    }

    // How many entries a ranking holds: at least one, at most what is available.
    static std::size_t choiceCount(int maxChoices, std::size_t available)
    {
        return std::min(available, static_cast<std::size_t>(std::max(1, maxChoices)));
    }

    static std::uint64_t tieBreak(std::uint64_t seed, int index)
    {
        std::uint64_t z = seed + (static_cast<std::uint64_t>(index) + 1) * 0x9e3779b97f4a7c15ULL;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }

private:
    static double orderable(double value)
    {
        return value == value ? value : std::numeric_limits<double>::infinity();
    }

    std::array<RankKey, INLINE_CAPACITY> m_inline; // uninitialised: only [0, m_size) is read
    std::vector<RankKey> m_heap;                   // used only above INLINE_CAPACITY
    RankKey m_best;                                // best-only mode
    RankKey *m_data = nullptr;
    std::size_t m_size = 0;
    std::uint64_t m_tieSeed;
    int m_maxChoices;
    Ties m_ties;
    bool m_bestOnly;
};

} // namespace Gateway::Routing
