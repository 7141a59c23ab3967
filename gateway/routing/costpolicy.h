#pragma once

#include "routepolicy.h"

#include <algorithm>

namespace Gateway::Routing {

struct CostParams {
    // `max_latency_ms`: a target whose expected latency for the request (see
    // LatencyPolicy::expectedLatencyMs) exceeds this ranks after every target that meets
    // it. A target without a latency sample counts as meeting it. 0 = no limit.
    double maxLatencyMs = 0.0;
};

// Strategy `cost`: cheapest first. The cost of the request on a target is
// (estimatedPromptTokens * inputCostPerMTok + expectedOutputTokens * outputCostPerMTok) / 1e6
// in the price table's currency. A price of 0 (unknown, or a self-hosted model) costs
// nothing, so such targets rank with the cheapest. Ties, including every price unknown,
// go to the target with fewer in-flight tokens, then at random.
//
// Scores (explain): the cost of the request on each candidate.
// Stateless: safe to share between threads.
class CostPolicy final : public RoutePolicy {
public:
    explicit CostPolicy(CostParams params = {});

    std::string_view name() const override { return "cost"; }
    void rank(const RankInput &input, Rng &rng, Ranking &out) const override;

    const CostParams &params() const { return m_params; }

    // Inline: evaluated per candidate.
    static double requestCost(const BackendState &state, const RequestSummary &request)
    {
        return requestCost(state, static_cast<double>(std::max(request.estimatedPromptTokens, 0)),
                           static_cast<double>(request.expectedOutputTokens()));
    }
    static double requestCost(const BackendState &state, double promptTokens, double outputTokens)
    {
        return (promptTokens * std::max(state.inputCostPerMTok, 0.0) + outputTokens * std::max(state.outputCostPerMTok, 0.0))
            / TOKENS_PER_PRICE_UNIT;
    }

private:
    static constexpr double TOKENS_PER_PRICE_UNIT = 1e6; // prices are per million tokens

    CostParams m_params;
};

} // namespace Gateway::Routing
