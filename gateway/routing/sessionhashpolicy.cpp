#include "sessionhashpolicy.h"

#include <QtEndian>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace Gateway::Routing {

namespace {

constexpr std::uint64_t SEED_MIX = 0x9e3779b97f4a7c15ULL;   // 2^64 / golden ratio
constexpr std::uint64_t LENGTH_MIX = 0xc6a4a7935bd1e995ULL;
constexpr std::uint64_t AVALANCHE_MUL = 0xd6e8feb86659fd93ULL;

// Multiply-xorshift finaliser: every input bit flips about half of the output bits, so
// nearby keys ("session-1", "session-2") land far apart on the ring.
std::uint64_t avalanche(std::uint64_t x)
{
    x ^= x >> 32;
    x *= AVALANCHE_MUL;
    x ^= x >> 32;
    x *= AVALANCHE_MUL;
    x ^= x >> 32;
    return x;
}

// Per-target state during one walk. A target is a candidate of the current call only if
// its stamp equals the call's generation, so nothing needs clearing between calls.
struct TargetMark {
    std::uint32_t stamp = 0;
    int load = 0; // in-flight requests, or SEEN once the walk has met the target
};
constexpr int SEEN = -1;

// Scratch reused across calls on the same worker thread: no allocation once warmed up.
struct WalkScratch {
    std::vector<TargetMark> marks; // by target index
    std::uint32_t generation = 0;
    std::vector<int> overloaded;   // overloaded candidates in the order the walk met them
    std::vector<int> loads;        // least loaded: in-flight requests per candidate

    // Starts a call: returns the generation that marks this call's candidates.
    std::uint32_t begin(std::size_t targetCount)
    {
        if (marks.size() < targetCount) {
            marks.resize(targetCount);
        }
        if (++generation == 0) {
            // Wrapped after 2^32 calls: old stamps could collide, so clear them once.
            std::fill(marks.begin(), marks.end(), TargetMark {});
            generation = 1;
        }
        overloaded.clear();
        return generation;
    }
};

WalkScratch &scratch()
{
    thread_local WalkScratch buffers;
    return buffers;
}

// In-flight requests of a target's backend (0 when the snapshot has no entry). Negative
// counts would be a bookkeeping bug upstream and read as 0, which also keeps them clear of
// the walk's SEEN marker.
int inFlightOf(const PolicyTarget &target, const BackendSnapshot &snapshot)
{
    const auto backend = static_cast<std::size_t>(target.backendId);
    return backend < snapshot.backends.size() ? std::max(0, snapshot.backends[backend].inFlightRequests) : 0;
}

QByteArray defaultTargetKey(const PolicyTarget &target)
{
    return QByteArray::number(target.backendId);
}

} // namespace

SessionHashPolicy::SessionHashPolicy(std::span<const PolicyTarget> targets)
    : SessionHashPolicy {targets, Parameters {}}
{
}

SessionHashPolicy::SessionHashPolicy(std::span<const PolicyTarget> targets, const Parameters &parameters,
                                     std::span<const QByteArray> targetKeys)
    : m_parameters {parameters}
    , m_targetCount {static_cast<int>(targets.size())}
{
    m_parameters.ringSize = std::clamp(m_parameters.ringSize, MIN_RING_SIZE, MAX_RING_SIZE);
    if (!(m_parameters.loadFactor >= MIN_LOAD_FACTOR)) { // also catches NaN
        m_parameters.loadFactor = MIN_LOAD_FACTOR;
    }
    buildRing(targets, targetKeys);
}

std::uint64_t SessionHashPolicy::hashKey(QByteArrayView data, std::uint64_t seed)
{
    const auto *bytes = reinterpret_cast<const unsigned char *>(data.data());
    const auto size = static_cast<std::size_t>(data.size());
    // The length goes in first so "a" and "a\0" differ even though the tail is zero-padded.
    std::uint64_t h = avalanche(seed ^ SEED_MIX) ^ (static_cast<std::uint64_t>(size) * LENGTH_MIX);
    std::size_t offset = 0;
    for (; offset + 8 <= size; offset += 8) {
        // Little-endian reads keep the value identical on big-endian hosts.
        h = avalanche(h ^ qFromLittleEndian<quint64>(bytes + offset));
    }
    if (offset < size) {
        unsigned char tail[8] = {};
        std::memcpy(tail, bytes + offset, size - offset);
        h = avalanche(h ^ qFromLittleEndian<quint64>(tail));
    }
    return avalanche(h ^ SEED_MIX);
}

void SessionHashPolicy::buildRing(std::span<const PolicyTarget> targets, std::span<const QByteArray> targetKeys)
{
    if (targets.empty()) {
        return;
    }
    double totalWeight = 0.0;
    for (const auto &target : targets) {
        totalWeight += target.weight > 0.0 ? target.weight : 0.0;
    }
    const double meanWeight = totalWeight / static_cast<double>(targets.size());
    // Points scale with weight relative to the route's mean weight, not as a share of a fixed
    // total: removing an average-weight target then leaves every other target's points exactly
    // where they were, so only the removed target's sessions move. (With a fixed total, the
    // survivors would each gain points that steal further sessions.)
    std::vector<long long> counts(targets.size());
    long long totalPoints = 0;
    for (std::size_t i = 0; i < targets.size(); ++i) {
        const double weight = targets[i].weight > 0.0 ? targets[i].weight : 0.0;
        const double relative = meanWeight > 0.0 ? weight / meanWeight : 1.0;
        // At least one point, so every target is reachable by the walk.
        counts[i] = std::max<long long>(1, std::llround(relative * m_parameters.ringSize));
        totalPoints += counts[i];
    }
    if (totalPoints > MAX_RING_POINTS) {
        // Only for extreme routes (thousands of targets or wildly skewed weights): keep the
        // proportions, give up the exact stability above.
        const double scale = static_cast<double>(MAX_RING_POINTS) / static_cast<double>(totalPoints);
        totalPoints = 0;
        for (auto &count : counts) {
            count = std::max<long long>(1, static_cast<long long>(static_cast<double>(count) * scale));
            totalPoints += count;
        }
    }
    struct Point {
        std::uint64_t hash;
        int owner;
    };
    std::vector<Point> points;
    points.reserve(static_cast<std::size_t>(totalPoints));
    for (std::size_t i = 0; i < targets.size(); ++i) {
        const QByteArray key = i < targetKeys.size() && !targetKeys[i].isEmpty() ? targetKeys[i]
                                                                                 : defaultTargetKey(targets[i]);
        // Replica r of a target always sits at the same position, so a weight change only
        // adds or removes that target's own points.
        for (long long replica = 0; replica < counts[i]; ++replica) {
            points.push_back({hashKey(key, static_cast<std::uint64_t>(replica)), static_cast<int>(i)});
        }
    }
    // Ties (vanishingly rare) break on the target index so the ring is deterministic.
    std::sort(points.begin(), points.end(), [](const Point &a, const Point &b) {
        return a.hash != b.hash ? a.hash < b.hash : a.owner < b.owner;
    });
    m_hashes.reserve(points.size());
    m_owners.reserve(points.size());
    for (const auto &point : points) {
        m_hashes.push_back(point.hash);
        m_owners.push_back(point.owner);
    }

    // About POINTS_PER_BUCKET points per bucket: a lookup jumps to its bucket by the top
    // bits and searches a few neighbouring entries, one or two cache misses instead of a
    // binary search's dozen on a large ring.
    int bits = 1;
    while (bits < MAX_BUCKET_BITS && (std::size_t {1} << (bits + 1)) * POINTS_PER_BUCKET <= m_hashes.size()) {
        ++bits;
    }
    m_bucketShift = 64 - bits;
    const std::size_t buckets = std::size_t {1} << bits;
    m_bucketStart.assign(buckets + 1, 0);
    std::size_t point = 0;
    for (std::size_t bucket = 0; bucket <= buckets; ++bucket) {
        // First point whose bucket is >= this one.
        while (point < m_hashes.size() && (m_hashes[point] >> m_bucketShift) < bucket) {
            ++point;
        }
        m_bucketStart[bucket] = static_cast<std::uint32_t>(point);
    }
}

std::size_t SessionHashPolicy::ringStart(QByteArrayView sessionKey) const
{
    const std::uint64_t h = hashKey(sessionKey);
    const std::size_t bucket = static_cast<std::size_t>(h >> m_bucketShift);
    // Every point before the bucket is smaller and every point after it larger, so the
    // first point >= h lies in the bucket or is the next bucket's first.
    const auto first = m_hashes.begin() + m_bucketStart[bucket];
    const auto last = m_hashes.begin() + m_bucketStart[bucket + 1];
    const auto it = std::lower_bound(first, last, h);
    // Past the last point the ring wraps to the first.
    return it == m_hashes.end() ? 0 : static_cast<std::size_t>(it - m_hashes.begin());
}

int SessionHashPolicy::owner(QByteArrayView sessionKey, std::span<const int> candidates) const
{
    if (sessionKey.isEmpty() || m_hashes.empty() || candidates.empty()) {
        return -1;
    }
    const std::size_t ringSize = m_hashes.size();
    std::size_t position = ringStart(sessionKey);
    for (std::size_t step = 0; step < ringSize; ++step) {
        const int target = m_owners[position];
        if (std::binary_search(candidates.begin(), candidates.end(), target)) {
            return target;
        }
        position = position + 1 == ringSize ? 0 : position + 1;
    }
    return -1;
}

void SessionHashPolicy::rank(const RankInput &input, Rng &rng, Ranking &out) const
{
    out.reset(input.targets.size());
    if (input.candidates.empty()) {
        return;
    }
    if (input.request.sessionKey.isEmpty() || m_hashes.empty()) {
        rankByLeastLoaded(input, rng, out);
        return;
    }
    rankBySession(input, out);
}

void SessionHashPolicy::rankBySession(const RankInput &input, Ranking &out) const
{
    const std::size_t wanted = static_cast<std::size_t>(std::max(1, input.maxChoices));
    const std::size_t candidateCount = input.candidates.size();

    WalkScratch &buffers = scratch();
    const std::uint32_t generation =
        buffers.begin(std::max(input.targets.size(), static_cast<std::size_t>(m_targetCount)));
    TargetMark *marks = buffers.marks.data();
    std::int64_t totalInFlight = 0;
    for (const int index : input.candidates) {
        const int load = inFlightOf(input.targets[static_cast<std::size_t>(index)], input.snapshot);
        marks[index] = {generation, load};
        totalInFlight += load;
    }
    const auto bound = static_cast<std::int64_t>(std::ceil(
        m_parameters.loadFactor * static_cast<double>(totalInFlight + 1) / static_cast<double>(candidateCount)));

    const std::size_t ringSize = m_hashes.size();
    std::size_t position = ringStart(input.request.sessionKey);
    std::size_t seen = 0;
    for (std::size_t step = 0; step < ringSize; ++step) {
        const int target = m_owners[position];
        position = position + 1 == ringSize ? 0 : position + 1;
        TargetMark &mark = marks[target];
        if (mark.stamp != generation || mark.load == SEEN) {
            continue; // not a candidate, or already placed
        }
        if (out.explain) {
            // The first candidate met is the sticky owner, whatever its load.
            out.setScore(target, seen == 0 ? 1.0 : static_cast<double>(step));
        }
        const bool eligible = std::int64_t {mark.load} + 1 <= bound;
        mark.load = SEEN;
        ++seen;
        if (eligible) {
            out.order.push_back(target);
            if (out.order.size() == wanted) {
                return;
            }
        } else {
            buffers.overloaded.push_back(target);
        }
        if (seen == candidateCount) {
            break;
        }
    }
    // Overloaded candidates still beat no fallback at all.
    for (const int target : buffers.overloaded) {
        if (out.order.size() == wanted) {
            return;
        }
        out.order.push_back(target);
    }
    // Candidates without ring points (a target list that does not match this policy's)
    // come last, in index order.
    for (const int index : input.candidates) {
        if (out.order.size() == wanted) {
            return;
        }
        if (marks[index].load != SEEN) {
            out.order.push_back(index);
        }
    }
}

void SessionHashPolicy::rankByLeastLoaded(const RankInput &input, Rng &rng, Ranking &out)
{
    // Taken candidates read as the largest load so the minimum search skips them without a
    // branch of its own.
    constexpr int TAKEN = std::numeric_limits<int>::max();
    const std::size_t count = input.candidates.size();
    const std::size_t wanted = std::min(count, static_cast<std::size_t>(std::max(1, input.maxChoices)));
    std::vector<int> &loads = scratch().loads;
    loads.resize(count);
    for (std::size_t i = 0; i < count; ++i) {
        // Real loads stay below TAKEN: one less than INT_MAX requests is not a thing.
        loads[i] = std::min(inFlightOf(input.targets[static_cast<std::size_t>(input.candidates[i])], input.snapshot),
                            TAKEN - 1);
    }
    if (out.explain) {
        for (std::size_t i = 0; i < count; ++i) {
            out.setScore(input.candidates[i], loads[i]);
        }
    }
    while (out.order.size() < wanted) {
        // Pass 1: the minimum and how many candidates share it.
        int lowest = TAKEN;
        std::size_t first = 0;
        std::size_t ties = 0;
        for (std::size_t i = 0; i < count; ++i) {
            if (loads[i] < lowest) {
                lowest = loads[i];
                first = i;
                ties = 1;
            } else if (loads[i] == lowest) {
                ++ties;
            }
        }
        // Ties: one uniform draw picks which of them (pass 2 finds it).
        std::size_t picked = first;
        if (ties > 1) {
            auto nth = std::min(ties - 1, static_cast<std::size_t>(rng.uniform() * static_cast<double>(ties)));
            for (std::size_t i = first;; ++i) {
                if (loads[i] == lowest) {
                    if (nth == 0) {
                        picked = i;
                        break;
                    }
                    --nth;
                }
            }
        }
        out.order.push_back(input.candidates[picked]);
        loads[picked] = TAKEN;
    }
}

} // namespace Gateway::Routing
