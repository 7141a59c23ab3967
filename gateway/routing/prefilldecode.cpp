#include "prefilldecode.h"

#include <algorithm>

namespace Gateway::Routing {

QString targetPoolName(TargetPool pool)
{
    switch (pool) {
    case TargetPool::Prefill:
        return QStringLiteral("prefill");
    case TargetPool::Decode:
        return QStringLiteral("decode");
    case TargetPool::Both:
        break;
    }
    return {};
}

std::optional<TargetPool> parseTargetPool(const QString &name)
{
    if (name == u"prefill") {
        return TargetPool::Prefill;
    }
    if (name == u"decode") {
        return TargetPool::Decode;
    }
    return std::nullopt;
}

QStringList targetPoolNames()
{
    return {QStringLiteral("prefill"), QStringLiteral("decode")};
}

PdVerdict decidePrefillDecode(const PrefillDecodeSettings &settings, int promptTokens, int cachedPromptTokens)
{
    PdVerdict verdict;
    verdict.uncachedTokens = std::max(0, promptTokens - std::clamp(cachedPromptTokens, 0, std::max(0, promptTokens)));
    if (settings.enabled && verdict.uncachedTokens > settings.uncachedTokensThreshold) {
        verdict.decision = PdDecision::Disaggregated;
    }
    return verdict;
}

PdWork pdWorkFrom(const BackendSnapshot &snapshot, int promptTokens, int decodeBackendId, int cachedOnDecode,
                  int prefillBackendId, int cachedOnPrefill)
{
    const auto backlog = [&snapshot](int backendId) -> std::int64_t {
        const auto index = static_cast<std::size_t>(backendId);
        return backendId >= 0 && index < snapshot.backends.size() ? snapshot.backends[index].inFlightPrefillTokens : 0;
    };
    return {promptTokens, cachedOnDecode, backlog(decodeBackendId), cachedOnPrefill, backlog(prefillBackendId)};
}

PdWorkComparison comparePrefillWork(const PrefillDecodeSettings &settings, const PdWork &work)
{
    const auto lacking = [&](int cached) {
        const int prompt = std::max(0, work.promptTokens);
        return static_cast<std::int64_t>(prompt - std::clamp(cached, 0, prompt));
    };
    PdWorkComparison comparison;
    comparison.prefillWork = std::max<std::int64_t>(0, work.prefillBacklogTokens) + lacking(work.cachedOnPrefill);
    comparison.decodeWork = std::max<std::int64_t>(0, work.decodeBacklogTokens) + lacking(work.cachedOnDecode);
    comparison.allowsSplit = settings.maxPrefillWorkRatio <= 0.0 ||
                             static_cast<double>(comparison.prefillWork) <=
                                 settings.maxPrefillWorkRatio * static_cast<double>(comparison.decodeWork);
    return comparison;
}

const char *pdDecisionName(PdDecision decision)
{
    return decision == PdDecision::Disaggregated ? "disaggregated" : "aggregated";
}

} // namespace Gateway::Routing
