#pragma once

#include "routepolicy.h"

namespace Gateway::Routing {

class PrefixMatchSource;

struct DynamoCostParams {
    double overlapScoreWeight = 1.0; // `overlap_score_weight` (--kv-overlap-score-weight)
    double temperature = 0.0;        // `router_temperature` (--router-temperature)
};

// NVIDIA Dynamo's KV router cost (ai-dynamo/dynamo docs/router/kv_cache_routing.md),
// preset dynamo_cost, over a PrefixMatchSource (Dynamo's ApproxKvIndexer analogue with
// a PrefixIndex; its event-fed indexer analogue with an oracle source):
//     cost = overlap_score_weight x prefill_blocks + decode_blocks
// prefill_blocks: the prompt tokens the candidate still has to prefill (prompt - matched
// blocks x tokens per block) / tokens per block. decode_blocks: the KV blocks of the
// sequences active on it; Dynamo predicts them from its own routing (added at routing,
// freed at completion), which is exactly the gateway's in-flight token count
// (prompt + expected output of requests in flight) / tokens per block.
// Lowest cost wins, random among ties; with temperature > 0, a softmax draw over the
// costs normalised to [0, 1]: p ~ exp(-normalised / temperature).
// Fallbacks: the other candidates by cost. The chosen backend's blocks are recorded.
//
// Scores (explain): each candidate's cost in blocks (lower = better).
class DynamoCostPolicy final : public RoutePolicy {
public:
    DynamoCostPolicy(DynamoCostParams params, PrefixMatchSource *source);

    std::string_view name() const override { return "dynamo_cost"; }
    void rank(const RankInput &input, Rng &rng, Ranking &out) const override;

    const DynamoCostParams &params() const { return m_params; }

private:
    DynamoCostParams m_params;
    PrefixMatchSource *m_source;
};

} // namespace Gateway::Routing
