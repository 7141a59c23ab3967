#include "prefixawarepolicy.h"

#include "gpucandidates.h"
#include "prefixmatch.h"
#include "rankkeybuffer.h"
#include "rendezvous.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>

namespace Gateway::Routing {

namespace {

// How far `value` has climbed from `start` (0) to `full` (1), clamped; a step at `full`
// when the two meet. The KV-pressure ramps of the match discount, the miss factor and
// the decode term all use it.
double ramp(double value, double start, double full)
{
    if (full <= start) {
        return value >= full ? 1.0 : 0.0;
    }
    return std::clamp((value - start) / (full - start), 0.0, 1.0);
}

} // namespace

PrefixAwarePolicy::PrefixAwarePolicy(PrefixAwareParams params, PrefixMatchSource *source)
    : m_params {params}
    , m_source {source}
{
}

double PrefixAwarePolicy::matchKept(const EngineSignals &engine) const
{
    if (!engine.fresh || !(engine.kvCacheUsage > m_params.kvPressureStart) || m_params.kvPressureStart >= 1.0) {
        return 1.0;
    }
    const double pressure = ramp(engine.kvCacheUsage, m_params.kvPressureStart, 1.0);
    return 1.0 - pressure * (1.0 - m_params.kvPressureMatchKeep);
}

double PrefixAwarePolicy::decodeScale(double meanWaiting, double meanKvUsage) const
{
    if (meanWaiting < 0.0) {
        return 1.0; // no fresh metrics: assume the worst
    }
    const double kvPressure = meanKvUsage >= 0.0 ? ramp(meanKvUsage, m_params.kvMissStart, m_params.kvPressureStart) : 1.0;
    return std::max(std::min(1.0, meanWaiting), kvPressure);
}

double PrefixAwarePolicy::engineQueueKept(const EngineSignals &engine) const
{
    if (m_params.engineQueueFadeMs <= 0.0 || engine.ageMs < 0) {
        return 1.0;
    }
    return 1.0 - ramp(static_cast<double>(engine.ageMs), 0.0, m_params.engineQueueFadeMs);
}

double PrefixAwarePolicy::routerQueued(const BackendState &state, bool everyonePrefilling) const
{
    const double queued = static_cast<double>(std::max<std::int64_t>(0, state.inFlightPrefillTokens));
    if (!everyonePrefilling || m_params.prefillProgressWeight <= 0.0 || state.prefillsInFlight != 1 ||
        !(state.prefillUsPerToken > 0.0) || state.prefillElapsedUs < 0) {
        return queued;
    }
    const double done = m_params.prefillProgressWeight * static_cast<double>(state.prefillElapsedUs) / state.prefillUsPerToken;
    return std::max(0.0, queued - done);
}

double PrefixAwarePolicy::idleMissFloor(double meanWaiting, double meanKvUsage) const
{
    if (meanWaiting < 0.0 || meanKvUsage < 0.0) {
        return 1.0; // no fresh metrics: the engines may be queueing
    }
    const double busy = std::max(ramp(meanWaiting, 1.0, 2.0), ramp(meanKvUsage, m_params.kvMissStart, m_params.kvPressureStart));
    return 1.0 + (m_params.idleMissWeight - 1.0) * (1.0 - busy);
}

double PrefixAwarePolicy::kvMissFactor(double meanKvUsage, double bestMatchedTokens, double promptTokens) const
{
    if (m_params.kvMissBoost <= 0.0 || meanKvUsage <= m_params.kvMissStart ||
        bestMatchedTokens < m_params.kvMissMinMatch * promptTokens || promptTokens <= 0.0) {
        return 1.0;
    }
    return 1.0 + m_params.kvMissBoost * ramp(meanKvUsage, m_params.kvMissStart, 1.0);
}

double PrefixAwarePolicy::widelyHeldTokens(std::span<const double> cached, std::span<double> scratch) const
{
    if (m_params.widelyHeldShare <= 0.0) {
        return 0.0;
    }
    const auto holders = std::max<std::size_t>(
        2, static_cast<std::size_t>(std::ceil(m_params.widelyHeldShare * static_cast<double>(cached.size()))));
    if (holders > cached.size()) {
        return 0.0;
    }
    std::copy(cached.begin(), cached.end(), scratch.begin());
    const auto kth = scratch.begin() + static_cast<std::ptrdiff_t>(holders - 1);
    std::nth_element(scratch.begin(), kth, scratch.end(), std::greater<>());
    return *kth;
}

int PrefixAwarePolicy::sharedPlacement(GpuCandidateSet &set, std::span<const double> costs,
                                       std::span<const char> eligible, double promptTokens) const
{
    const std::span<const std::uint64_t> blocks = set.blocks();
    if (m_params.replicaPlacementSlack <= 0.0 || set.size() < 2 || blocks.empty()) {
        return -1;
    }
    int bestMatched = 0;
    double cheapest = std::numeric_limits<double>::infinity();
    for (std::size_t i = 0; i < set.size(); ++i) {
        bestMatched = std::max(bestMatched, set[i].matchedBlocks);
        if (eligible[i]) {
            cheapest = std::min(cheapest, costs[i]);
        }
    }
    if (2 * static_cast<std::size_t>(bestMatched) >= blocks.size()) {
        return -1; // a server holds most of it: the index knows where it lives
    }
    const std::uint64_t anchor =
        blocks[std::min(blocks.size() - 1, static_cast<std::size_t>(bestMatched) + PrefixAwareParams::PLACEMENT_ANCHOR_BLOCKS)];
    const double limit = cheapest + m_params.replicaPlacementSlack * promptTokens;
    int winner = -1;
    std::uint64_t winnerWeight = 0;
    for (std::size_t i = 0; i < set.size(); ++i) {
        if (!eligible[i] || costs[i] > limit) {
            continue;
        }
        const std::uint64_t weight = rendezvousWeight(anchor, set[i].backendId);
        if (winner < 0 || weight > winnerWeight) {
            winner = static_cast<int>(i);
            winnerWeight = weight;
        }
    }
    return winner;
}

void PrefixAwarePolicy::rank(const RankInput &input, Rng &rng, Ranking &out) const
{
    out.reset(input.targets.size());
    GpuCandidateSet &set = threadCandidateSet();
    set.gather(input, m_source, std::numeric_limits<std::size_t>::max());
    const std::size_t count = set.size();
    const double tokensPerBlock = m_params.tokensPerBlock > 0 ? m_params.tokensPerBlock : tokensPerBlockOf(m_source);
    const double prompt = std::max<double>(std::max(0, input.request.estimatedPromptTokens),
                                           static_cast<double>(set.blocks().size()) * tokensPerBlock);
    const double requestTokens = static_cast<double>(input.request.expectedTokens());
    const std::span<double> costs = set.values(0);    // the queued prefill, then the total
    const std::span<double> cached = set.values(1);   // believed cached prompt tokens
    const std::span<double> loads = set.values(2);    // the guard's load
    const std::span<double> uncached = set.values(3); // uncached prompt tokens / weight
    const std::span<double> decodes = set.values(4);  // in-flight decode tokens / weight: the tie-break
    const std::span<double> scratch = set.values(5);

    const std::span<char> eligible = set.flags();
    double loadSum = 0.0;
    double queuedSum = 0.0;
    double kvUsageSum = 0.0;
    int kvUsageCount = 0;
    double waitingSum = 0.0;
    int freshCount = 0;
    double bestMatched = 0.0; // before the KV-pressure discount
    double bestCached = 0.0;
    for (std::size_t i = 0; i < count; ++i) {
        const double matched = std::min(prompt, set[i].matchedBlocks * tokensPerBlock);
        bestMatched = std::max(bestMatched, matched);
        cached[i] = matchKept(set[i].state->engine) * matched;
        bestCached = std::max(bestCached, cached[i]);
    }
    // What one request in an engine's waiting queue is assumed to need: this request's
    // prefill where it is cheapest (at least a block). The same on every candidate: the
    // requests queued at a server do not need more prefill because this one would miss
    // there, and charging each of them this request's miss made a server that lacks the
    // prefix look busier the longer the queues grew, pinning a shared prefix to its
    // server far past the load a replica would pay back (fleet simulator W1 at 120% load:
    // running-request skew 1.11, throughput -7% against the endpoint picker).
    const double perWaiting = std::max(prompt - bestCached, tokensPerBlock);
    const double widelyHeld = widelyHeldTokens(cached, scratch);
    bool everyonePrefilling = true;
    for (std::size_t i = 0; i < count; ++i) {
        everyonePrefilling = everyonePrefilling && set[i].state->inFlightPrefillTokens > 0;
    }
    for (std::size_t i = 0; i < count; ++i) {
        const GpuCandidate &candidate = set[i];
        const BackendState &state = *candidate.state;
        const EngineSignals &engine = state.engine;
        if (engine.fresh && engine.kvCacheUsage >= 0.0) {
            kvUsageSum += engine.kvCacheUsage;
            ++kvUsageCount;
        }
        if (engine.fresh) {
            waitingSum += std::max(0.0, engine.waitingRequests);
            ++freshCount;
        }
        const double missing = prompt - std::max(cached[i], widelyHeld);
        const double ownQueued = routerQueued(state, everyonePrefilling);
        double queued = ownQueued;
        if (engine.fresh && m_params.engineQueueWeight > 0.0) {
            const double engineQueued =
                m_params.engineQueueWeight * engineQueueKept(engine) * std::max(0.0, engine.waitingRequests) * perWaiting;
            queued = std::max(queued, engineQueued);
        }
        const double weight = candidate.weight > 0.0 ? candidate.weight : std::numeric_limits<double>::min();
        costs[i] = queued / weight;
        uncached[i] = missing / weight;
        queuedSum += queued;
        // A server with at most about one prompt's prefill queued is not overloaded however
        // many requests it runs: the guard below never passes it over.
        eligible[i] = queued <= prompt;
        // The guard's load: this gateway's in-flight requests plus whatever queue the engine
        // showed beyond its own count (other replicas' requests), in this request's tokens.
        loads[i] = (std::max(0, state.inFlightRequests) * requestTokens + (queued - ownQueued)) / weight;
        loadSum += loads[i];
    }

    const double candidates = static_cast<double>(std::max<std::size_t>(1, count));
    const double backlog = queuedSum / candidates / std::max(1.0, prompt);
    const double meanKvUsage = kvUsageCount > 0 ? kvUsageSum / kvUsageCount : -1.0;
    const double meanWaiting = freshCount > 0 ? waitingSum / freshCount : -1.0;
    double missWeight = 1.0 + m_params.backlogWeight * backlog * kvMissFactor(meanKvUsage, bestMatched, prompt);
    if (bestMatched >= m_params.kvMissMinMatch * prompt) {
        missWeight = std::max(missWeight, idleMissFloor(meanWaiting, meanKvUsage));
    }
    const double bound = m_params.boundedLoadFactor * loadSum / candidates;
    const std::uint64_t seed = count > 1 ? rng.next() : 0;
    RankKeyBuffer buffer {count, input.maxChoices, RankKeyBuffer::Ties::Random, seed};
    const double decodeWeight = m_params.decodeWeight * decodeScale(meanWaiting, meanKvUsage);
    for (std::size_t i = 0; i < count; ++i) {
        const double weight = set[i].weight > 0.0 ? set[i].weight : std::numeric_limits<double>::min();
        decodes[i] = static_cast<double>(std::max<std::int64_t>(0, set[i].state->inFlightDecodeTokens)) / weight;
        costs[i] += missWeight * uncached[i] + decodeWeight * decodes[i];
        eligible[i] = eligible[i] || loads[i] <= bound + requestTokens / weight;
    }
    const int placed = sharedPlacement(set, costs, eligible, prompt);
    for (std::size_t i = 0; i < count; ++i) {
        // The shared placement ranks first; the rest keep their order by cost.
        const int tier = static_cast<int>(i) == placed ? -1 : (eligible[i] ? 0 : 1);
        buffer.add(tier, costs[i], decodes[i], set[i].targetIndex);
    }
    buffer.appendBest(out.order);

    if (out.explain) {
        for (std::size_t i = 0; i < count; ++i) {
            out.setScore(set[i].targetIndex, costs[i]);
        }
    }
    fillCachedPromptTokens(input, set.candidates(), cached, out);
    recordFirstChoice(m_source, input, set.blocks(), out);
}

} // namespace Gateway::Routing
