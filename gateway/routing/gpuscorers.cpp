#include "gpuscorers.h"

#include "rendezvous.h"
#include "sessionhashpolicy.h"

#include <algorithm>
#include <array>

namespace Gateway::Routing {

namespace {

constexpr std::array<std::string_view, GPU_SCORER_KINDS> SCORER_NAMES {
    "prefix", "queue", "kv_cache", "running", "token_load", "session", "load_aware",
};

bool allFresh(std::span<const GpuCandidate> candidates)
{
    return std::all_of(candidates.begin(), candidates.end(),
                       [](const GpuCandidate &c) { return c.state->engine.fresh; });
}

// (max - v) / (max - min): the least loaded scores 1, the most loaded 0; all equal: 1.
template <typename Value>
void minMaxInverse(std::span<const GpuCandidate> candidates, std::span<double> scores, Value value)
{
    if (candidates.empty()) {
        return;
    }
    double low = value(candidates[0]);
    double high = low;
    for (std::size_t i = 0; i < candidates.size(); ++i) {
        scores[i] = value(candidates[i]);
        low = std::min(low, scores[i]);
        high = std::max(high, scores[i]);
    }
    const double range = high - low;
    for (double &score : scores) {
        score = range > 0.0 ? (high - score) / range : 1.0;
    }
}

} // namespace

std::string_view gpuScorerName(GpuScorerKind kind)
{
    return SCORER_NAMES[static_cast<std::size_t>(kind)];
}

std::optional<GpuScorerKind> gpuScorerFromName(std::string_view name)
{
    for (std::size_t i = 0; i < SCORER_NAMES.size(); ++i) {
        if (SCORER_NAMES[i] == name) {
            return static_cast<GpuScorerKind>(i);
        }
    }
    return std::nullopt;
}

void scoreCandidates(GpuScorerKind kind, const GpuScoringInput &input, std::span<double> scores)
{
    const std::span<const GpuCandidate> candidates = input.candidates;
    switch (kind) {
    case GpuScorerKind::Prefix: {
        const double total = static_cast<double>(input.totalBlocks);
        for (std::size_t i = 0; i < candidates.size(); ++i) {
            scores[i] = total > 0.0 ? std::min(1.0, candidates[i].matchedBlocks / total) : 0.0;
        }
        return;
    }
    case GpuScorerKind::Queue: {
        const bool engine = allFresh(candidates);
        minMaxInverse(candidates, scores, [engine](const GpuCandidate &c) {
            return engine ? c.state->engine.waitingRequests : static_cast<double>(std::max(0, c.state->inFlightRequests));
        });
        return;
    }
    case GpuScorerKind::KvCache: {
        const bool engine = std::all_of(candidates.begin(), candidates.end(), [](const GpuCandidate &c) {
            return c.state->engine.fresh && c.state->engine.kvCacheUsage >= 0.0;
        });
        if (engine) {
            for (std::size_t i = 0; i < candidates.size(); ++i) {
                scores[i] = 1.0 - std::clamp(candidates[i].state->engine.kvCacheUsage, 0.0, 1.0);
            }
            return;
        }
        minMaxInverse(candidates, scores, [](const GpuCandidate &c) {
            return static_cast<double>(std::max<std::int64_t>(0, c.state->inFlightTokens));
        });
        return;
    }
    case GpuScorerKind::Running: {
        const bool engine = allFresh(candidates);
        minMaxInverse(candidates, scores, [engine](const GpuCandidate &c) {
            return engine ? c.state->engine.runningRequests : static_cast<double>(std::max(0, c.state->inFlightRequests));
        });
        return;
    }
    case GpuScorerKind::TokenLoad: {
        const double threshold = input.options.tokenLoadThreshold;
        for (std::size_t i = 0; i < candidates.size(); ++i) {
            const double tokens = static_cast<double>(std::max<std::int64_t>(0, candidates[i].state->inFlightTokens));
            scores[i] = 1.0 - std::min(1.0, tokens / threshold);
        }
        return;
    }
    case GpuScorerKind::Session: {
        std::fill(scores.begin(), scores.end(), 0.0);
        if (input.request.sessionKey.isEmpty() || candidates.empty()) {
            return;
        }
        const std::uint64_t session = SessionHashPolicy::hashKey(input.request.sessionKey);
        std::size_t owner = 0;
        std::uint64_t best = rendezvousWeight(session, candidates[0].backendId);
        for (std::size_t i = 1; i < candidates.size(); ++i) {
            const std::uint64_t draw = rendezvousWeight(session, candidates[i].backendId);
            if (draw > best) {
                best = draw;
                owner = i;
            }
        }
        scores[owner] = 1.0;
        return;
    }
    case GpuScorerKind::LoadAware: {
        const double threshold = input.options.loadAwareThreshold;
        for (std::size_t i = 0; i < candidates.size(); ++i) {
            const BackendState &state = *candidates[i].state;
            const double queue = state.engine.fresh ? state.engine.waitingRequests
                                                    : static_cast<double>(std::max(0, state.inFlightRequests));
            scores[i] = queue <= 0.0 ? 0.5 : 0.5 * std::max(0.0, 1.0 - queue / threshold);
        }
        return;
    }
    }
}

} // namespace Gateway::Routing
