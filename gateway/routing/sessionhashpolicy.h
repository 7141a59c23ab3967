#pragma once

#include "routepolicy.h"

#include <QByteArray>
#include <QByteArrayView>

#include <cstdint>
#include <span>
#include <vector>

namespace Gateway::Routing {

// Session affinity: consistent hashing with bounded loads (Mirrokni, Thorup, Zadimoghaddam,
// "Consistent Hashing with Bounded Loads", SODA 2018, arXiv 2017) on request.sessionKey.
//
// Why a ring and not Maglev: bounded loads needs "the next target after this one" for a key,
// and on a ring that is simply the next point clockwise, so an overloaded or unhealthy owner
// spills its sessions onto the neighbours that would inherit them anyway, and removing a
// target moves only the sessions that hashed to it (about 1/N). Maglev's table gives one
// owner per slot and no natural successor; Envoy bolts bounded load onto it by re-hashing
// with an attempt counter, which moves spilled sessions to random targets instead. A
// lookup costs one hash of the key plus a search among ~4-8 points (a bucket index over
// the ring's top hash bits), then a short walk: ~100-200 ns at 64 targets.
//
// The ring is built once in the constructor. Each target gets virtual nodes in proportion
// to its configured weight (see Parameters::ringSize), never to the health ramp: health
// changes must not remap sessions; unhealthy targets are skipped through the candidates
// list instead. Point positions come from hashKey(), a stable 64-bit hash written here:
// qHash is seeded per process, and the mapping must be the same after a restart and on
// every worker.
//
// Lookup: hash the session key, binary-search the ring, walk clockwise skipping targets
// that are not candidates and targets over the load bound
//     bound = ceil(load_factor * (sum of candidates' inFlightRequests + 1) / candidates)
// A target is eligible while inFlightRequests + 1 <= bound. With load_factor >= 1 at least
// one candidate (the least loaded) is always eligible. Further choices are the next
// distinct eligible targets clockwise, then (only if maxChoices is not yet reached) the
// overloaded candidates in the order the walk met them, so a fallback is never withheld.
// In-flight counts come from the snapshot, so picks racing on several workers can overshoot
// the bound by at most the number of concurrent picks; the bound then pulls back.
//
// Without a session key: the candidate with the fewest inFlightRequests (ties at random),
// then the next least loaded.
//
// Explain scores: with a session key, 1.0 for the sticky owner (owner(), the first
// candidate clockwise ignoring load) and, for every other candidate the walk met, the
// number of ring steps from the key's position to that target's first point (so >= 1;
// overloaded ones are scored too, so explain shows they were passed over). Candidates the
// walk never reached stay unscored. Without a session key: each candidate's
// inFlightRequests.
//
// Thread safety: the ring is immutable after construction and rank() keeps its scratch in
// thread_local buffers, so one policy object serves every worker without locks.
class SessionHashPolicy final : public RoutePolicy {
public:
    struct Parameters {
        // Config `ring_size`: ring points for a target of the route's mean weight; others
        // get points in proportion to weight / mean weight (at least one). Per target, not
        // per route, so a target's share deviates from its weight by about 1/sqrt(points),
        // ~3% at 1024, however many targets the route has, and removing or adding an
        // average-weight target never moves the other targets' points. Cost: 12 bytes a
        // point (96 KiB for 8 targets, 768 KiB for 64), about 17 binary-search probes at 64
        // targets, and well under 10 ms to build at config time.
        int ringSize = DEFAULT_RING_SIZE;
        // Config `load_factor`: how far above the mean in-flight load a target may go
        // before sessions spill to the next target. 1.25 is the paper's sweet spot: at most
        // 25% above average, while only a small share of sessions ever moves.
        double loadFactor = DEFAULT_LOAD_FACTOR;
    };

    static constexpr int DEFAULT_RING_SIZE = 1024;
    static constexpr int MIN_RING_SIZE = 16;
    static constexpr int MAX_RING_SIZE = 1 << 16;
    // Hard cap on a route's ring (24 MiB); beyond it every target's points are scaled down.
    static constexpr long long MAX_RING_POINTS = 1LL << 21;
    // Lookup index over the ring (see buildRing()).
    static constexpr std::size_t POINTS_PER_BUCKET = 4;
    static constexpr int MAX_BUCKET_BITS = 20;
    static constexpr double DEFAULT_LOAD_FACTOR = 1.25;
    // Below 1 the bound could exclude every candidate.
    static constexpr double MIN_LOAD_FACTOR = 1.0;

    // targetKeys (optional, aligned with targets): stable names such as "provider/model"
    // that place each target's points on the ring. Pass them so sessions keep their
    // targets when backend ids are renumbered by a config change; without them the
    // decimal backendId is used.
    explicit SessionHashPolicy(std::span<const PolicyTarget> targets);
    SessionHashPolicy(std::span<const PolicyTarget> targets, const Parameters &parameters,
                      std::span<const QByteArray> targetKeys = {});

    std::string_view name() const override { return "session_hash"; }
    void rank(const RankInput &input, Rng &rng, Ranking &out) const override;

    // The target the key maps to ignoring load: the first candidate clockwise from the
    // key's position. -1 for an empty key or when no candidate is on the ring. Lets the
    // caller record "moved because overloaded/unhealthy" when rank() picked another.
    int owner(QByteArrayView sessionKey, std::span<const int> candidates) const;

    const Parameters &parameters() const { return m_parameters; }
    std::size_t ringPoints() const { return m_hashes.size(); }

    // Stable 64-bit hash (same value on every platform, process and run): ring positions
    // and session keys both go through it. `seed` separates a target's virtual nodes.
    static std::uint64_t hashKey(QByteArrayView data, std::uint64_t seed = 0);

private:
    void buildRing(std::span<const PolicyTarget> targets, std::span<const QByteArray> targetKeys);
    std::size_t ringStart(QByteArrayView sessionKey) const;
    void rankBySession(const RankInput &input, Ranking &out) const;
    static void rankByLeastLoaded(const RankInput &input, Rng &rng, Ranking &out);

    Parameters m_parameters;
    int m_targetCount = 0;
    // Ring points sorted by position; m_owners[i] is the target index of m_hashes[i]. Two
    // arrays rather than pairs so the binary search touches only positions.
    std::vector<std::uint64_t> m_hashes;
    std::vector<int> m_owners;
    // m_bucketStart[b] = first point whose top bits are >= b; one extra entry at the end.
    std::vector<std::uint32_t> m_bucketStart;
    int m_bucketShift = 63;
};

} // namespace Gateway::Routing
