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

const char *pdDecisionName(PdDecision decision)
{
    return decision == PdDecision::Disaggregated ? "disaggregated" : "aggregated";
}

} // namespace Gateway::Routing
