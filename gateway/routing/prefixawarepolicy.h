#pragma once

#include "routepolicy.h"

namespace Gateway::Routing {

class PrefixMatchSource;

// Parameters of our default GPU policy; config keys in backquotes.
struct PrefixAwareParams {
    static constexpr double DEFAULT_DECODE_WEIGHT = 0.5;
    static constexpr double DEFAULT_BOUNDED_LOAD_FACTOR = 1.25;
    static constexpr double DEFAULT_KV_PRESSURE_START = 0.9;
    static constexpr double DEFAULT_KV_PRESSURE_MATCH_KEEP = 0.5;
    static constexpr double DEFAULT_ENGINE_QUEUE_WEIGHT = 1.0;
    static constexpr double DEFAULT_UNCACHED_WEIGHT = 1.0;

    // Prompt tokens per block of the source's hashes; 0 = blockChars / 4 (16 for the
    // default 64-character block, vLLM's default KV block).
    int tokensPerBlock = 0;
    // `decode_weight`: what one in-flight decode token costs a newcomer, in prefill
    // tokens. Decode does not queue ahead of a prefill the way queued prompts do (the
    // engine batches both), but every running sequence lengthens each step and holds KV
    // memory, so decode load matters less than queued prefill, yet not nothing.
    double decodeWeight = DEFAULT_DECODE_WEIGHT;
    // `bounded_load_factor`: a candidate whose in-flight tokens exceed this times the
    // candidates' mean (plus this request) is passed over unless every candidate is
    // (Mirrokni et al., "Consistent Hashing with Bounded Loads": 1.25 keeps every server
    // within 25% of the mean while moving few requests off their preferred server).
    double boundedLoadFactor = DEFAULT_BOUNDED_LOAD_FACTOR;
    // `kv_pressure_start`, `kv_pressure_match_keep`: above this scraped KV-cache usage a
    // server is evicting, so the index's belief that it holds a prefix fades linearly, to
    // `kv_pressure_match_keep` of the match at usage 1.
    double kvPressureStart = DEFAULT_KV_PRESSURE_START;
    double kvPressureMatchKeep = DEFAULT_KV_PRESSURE_MATCH_KEEP;
    // `engine_queue_weight`: how far to trust the scraped waiting queue (it also counts
    // requests from other gateway replicas, which this gateway's counters miss); 0 =
    // router counters only.
    double engineQueueWeight = DEFAULT_ENGINE_QUEUE_WEIGHT;
    // `uncached_weight`: EXPERIMENTAL weight of this request's uncached tokens.
    double uncachedWeight = DEFAULT_UNCACHED_WEIGHT;
    double uncachedQueueGain = 0.0; // EXPERIMENTAL
};

// Our default GPU policy (`prefix_aware`): send each request where it is predicted to
// get its first token soonest, among servers not overloaded.
//
// Predicted time to first token on candidate c, in prefill-token equivalents divided by
// its relative speed (effective weight):
//     cost_c = (queued_c + uncached_c + decode_weight x decode_c) / weight_c
//   queued_c   = prompt tokens already waiting for prefill there: the gateway's own
//                inFlightPrefillTokens (always fresh; it counts only the uncached part of
//                requests it sent, thanks to Ranking::cachedPromptTokens), raised to the
//                engine's waiting queue x this request's uncached size when the scrape
//                is fresh and shows more (other replicas' traffic);
//   uncached_c = this prompt's tokens minus the blocks c is believed to hold x tokens per
//                block, the match discounted under KV pressure;
//   decode_c   = the gateway's in-flight expected output tokens on c.
// With no prefix sharing this is least-loaded by prefill-weighted tokens; with sharing,
// a cached server wins exactly when the prefill it saves outweighs its extra queue.
//
// Bounded-load guard: load_c = (inFlightTokens_c + the engine queue's excess over
// inFlightPrefillTokens_c, if any) / weight_c; c is eligible iff
//     load_c <= bounded_load_factor x mean(load) + expectedTokens / weight_c
// (the slack of one request keeps an idle fleet all eligible). Ineligible candidates rank
// after every eligible one, so a hot prefix overflows to the next-cheapest server, which
// then records and holds it too: hot prefixes replicate instead of hot-spotting.
//
// Lowest cost first, random among exact ties; fallbacks by cost (eligible first). The
// chosen backend's blocks are recorded; Ranking::cachedPromptTokens gets each
// candidate's (discounted) cached tokens.
//
// Scores (explain): each candidate's cost (lower = better).
class PrefixAwarePolicy final : public RoutePolicy {
public:
    PrefixAwarePolicy(PrefixAwareParams params, PrefixMatchSource *source);

    std::string_view name() const override { return "prefix_aware"; }
    void rank(const RankInput &input, Rng &rng, Ranking &out) const override;

    const PrefixAwareParams &params() const { return m_params; }

private:
    PrefixAwareParams m_params;
    PrefixMatchSource *m_source;
};

} // namespace Gateway::Routing
