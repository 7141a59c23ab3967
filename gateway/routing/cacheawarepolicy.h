#pragma once

#include "routepolicy.h"

#include <string>

namespace Gateway::Routing {

class PrefixMatchSource;

struct CacheAwareParams {
    // sgl-model-gateway CLI defaults (router_args.py; docs "Cache-Aware Policy Tuning").
    static constexpr double GATEWAY_CACHE_THRESHOLD = 0.3;
    static constexpr double GATEWAY_BALANCE_ABS_THRESHOLD = 64.0;
    static constexpr double GATEWAY_BALANCE_REL_THRESHOLD = 1.5;
    // Rust CacheAwareConfig::default() (also the v0.4-era cache threshold).
    static constexpr double V1_CACHE_THRESHOLD = 0.5;
    static constexpr double V1_BALANCE_ABS_THRESHOLD = 32.0;
    static constexpr double V1_BALANCE_REL_THRESHOLD = 1.1;

    double cacheThreshold = GATEWAY_CACHE_THRESHOLD;          // `cache_threshold`
    double balanceAbsThreshold = GATEWAY_BALANCE_ABS_THRESHOLD; // `balance_abs_threshold`
    double balanceRelThreshold = GATEWAY_BALANCE_REL_THRESHOLD; // `balance_rel_threshold`
};

// SGLang's `cache_aware` policy (sgl-project/sglang sgl-model-gateway/src/policies/
// cache_aware.rs), re-implemented over the approximate prefix index (presets
// sglang_cache_aware and sglang_cache_aware_v1):
//  1. load = the gateway's own in-flight requests per candidate (SGLang's per-worker
//     load counter; no server metrics). The fleet is imbalanced iff
//     max - min > balance_abs_threshold and max > min x balance_rel_threshold; then the
//     least loaded candidate wins.
//  2. Otherwise the candidate with the longest prefix match wins if its match rate
//     (matched / total prompt blocks, SGLang: matched / request characters) is above
//     cache_threshold.
//  3. Otherwise the least loaded candidate wins. SGLang's older router picks the worker
//     with the smallest tree ("most available cache capacity") here; the newer gateway
//     revision uses the least loaded, which we follow: the PrefixMatchSource interface
//     does not expose tree sizes, and the oracle source has no tree at all.
// Ties are broken at random. In every branch the request's blocks are recorded for the
// chosen backend (SGLang inserts the text into the chosen worker's tree either way).
// Differences from SGLang, by construction: blocks of 64 characters instead of a
// character-granular radix tree, and LRU by capacity instead of a periodic eviction
// thread.
// Fallbacks: the other candidates by load.
//
// Scores (explain): in-flight requests per candidate when a load branch decided; the
// match rate when the cache branch decided.
class CacheAwarePolicy final : public RoutePolicy {
public:
    CacheAwarePolicy(CacheAwareParams params, PrefixMatchSource *source, std::string name = "sglang_cache_aware");

    std::string_view name() const override { return m_name; }
    void rank(const RankInput &input, Rng &rng, Ranking &out) const override;

    const CacheAwareParams &params() const { return m_params; }

private:
    CacheAwareParams m_params;
    PrefixMatchSource *m_source;
    std::string m_name;
};

} // namespace Gateway::Routing
