#include "prefixawarepolicy.h"

#include "gpucandidates.h"
#include "prefixmatch.h"
#include "rankkeybuffer.h"

#include <algorithm>
#include <limits>
#include <vector>

namespace Gateway::Routing {

PrefixAwarePolicy::PrefixAwarePolicy(PrefixAwareParams params, PrefixMatchSource *source)
    : m_params {params}
    , m_source {source}
{
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
    const std::span<double> costs = set.values(0);
    const std::span<double> cached = set.values(1);
    const std::span<double> loads = set.values(2);

    double loadSum = 0.0;
    double queuedSum = 0.0;
    thread_local std::vector<double> cachedUncached;
    cachedUncached.assign(count, 0.0);
    for (std::size_t i = 0; i < count; ++i) {
        const GpuCandidate &candidate = set[i];
        const BackendState &state = *candidate.state;
        const EngineSignals &engine = state.engine;
        double keep = 1.0;
        if (engine.fresh && engine.kvCacheUsage > m_params.kvPressureStart && m_params.kvPressureStart < 1.0) {
            const double pressure = std::min(1.0, (engine.kvCacheUsage - m_params.kvPressureStart)
                                                      / (1.0 - m_params.kvPressureStart));
            keep = 1.0 - pressure * (1.0 - m_params.kvPressureMatchKeep);
        }
        cached[i] = std::min(prompt, keep * candidate.matchedBlocks * tokensPerBlock);
        const double uncached = prompt - cached[i];
        const double routerQueued = static_cast<double>(std::max<std::int64_t>(0, state.inFlightPrefillTokens));
        double queued = routerQueued;
        if (engine.fresh && m_params.engineQueueWeight > 0.0) {
            // A waiting request is assumed to need about as much prefill as this one does
            // here (at least a block).
            const double engineQueued =
                m_params.engineQueueWeight * std::max(0.0, engine.waitingRequests) * std::max(uncached, tokensPerBlock);
            queued = std::max(queued, engineQueued);
        }
        const double decode = static_cast<double>(std::max<std::int64_t>(0, state.inFlightDecodeTokens));
        const double weight = candidate.weight > 0.0 ? candidate.weight : std::numeric_limits<double>::min();
        costs[i] = (queued + m_params.decodeWeight * decode) / weight;
        cachedUncached[i] = uncached / weight;
        queuedSum += queued;
        // The guard's load: this gateway's in-flight tokens plus whatever queue the engine
        // showed beyond them (other replicas' requests).
        loads[i] = (static_cast<double>(std::max<std::int64_t>(0, state.inFlightTokens)) + (queued - routerQueued))
                 / weight;
        loadSum += loads[i];
    }

    const double gain = m_params.uncachedWeight
        + m_params.uncachedQueueGain * queuedSum / static_cast<double>(std::max<std::size_t>(1, count)) / std::max(1.0, prompt);
    for (std::size_t i = 0; i < count; ++i) {
        costs[i] += gain * cachedUncached[i];
    }
    const double bound = m_params.boundedLoadFactor * loadSum / static_cast<double>(std::max<std::size_t>(1, count));
    const std::uint64_t seed = count > 1 ? rng.next() : 0;
    RankKeyBuffer buffer {count, input.maxChoices, RankKeyBuffer::Ties::Random, seed};
    for (std::size_t i = 0; i < count; ++i) {
        const double weight = set[i].weight > 0.0 ? set[i].weight : std::numeric_limits<double>::min();
        const bool eligible = loads[i] <= bound + requestTokens / weight;
        buffer.add(eligible ? 0 : 1, costs[i], 0.0, set[i].targetIndex);
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
