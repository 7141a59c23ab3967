#pragma once

#include "routepolicy.h"

#include <span>

namespace Gateway::Routing {

class GpuCandidateSet;
class PrefixMatchSource;

// Parameters of our default GPU policy; config keys in backquotes.
struct PrefixAwareParams {
    static constexpr double DEFAULT_DECODE_WEIGHT = 0.5;
    static constexpr double DEFAULT_BOUNDED_LOAD_FACTOR = 1.25;
    static constexpr double DEFAULT_KV_PRESSURE_START = 0.9;
    static constexpr double DEFAULT_KV_PRESSURE_MATCH_KEEP = 0.75;
    static constexpr double DEFAULT_ENGINE_QUEUE_WEIGHT = 1.0;
    static constexpr double DEFAULT_BACKLOG_WEIGHT = 4.0;
    static constexpr double DEFAULT_KV_MISS_BOOST = 15.0;
    static constexpr double DEFAULT_KV_MISS_START = 0.5;
    static constexpr double DEFAULT_KV_MISS_MIN_MATCH = 0.5;
    static constexpr double DEFAULT_IDLE_MISS_WEIGHT = 5.0;
    static constexpr double DEFAULT_ENGINE_QUEUE_FADE_MS = 125.0;
    static constexpr double DEFAULT_PREFILL_PROGRESS_WEIGHT = 1.0;
    static constexpr double DEFAULT_WIDELY_HELD_SHARE = 0.5;

    // Prompt tokens per block of the source's hashes; 0 = blockChars / 4 (16 for the
    // default 64-character block, vLLM's default KV block).
    int tokensPerBlock = 0;
    // `decode_weight`: what one in-flight decode token costs a newcomer, in prefill
    // tokens, when the servers are short of batch slots or KV memory. Decode does not
    // queue ahead of a prefill the way queued prompts do (the engine batches both); it
    // delays a newcomer when the engine must wait for running sequences to finish before
    // admitting it. So it counts in full when the engines show a waiting queue (a mean of
    // one request or more) or KV usage at kv_pressure_start, not at all with no queue and
    // KV usage below kv_miss_start, linearly between; in full without fresh metrics.
    // Fleet simulator: on W5 at light load a conversation no longer leaves its server for
    // one with fewer running requests (TTFT p99 -0.9 ms, hit rate +1%), while W1 past
    // saturation (bound by batch slots) and W2 (by KV memory) keep the balance it buys.
    double decodeWeight = DEFAULT_DECODE_WEIGHT;
    // `bounded_load_factor`: a candidate with more in-flight requests than this times the
    // candidates' mean (plus this request) is passed over unless every candidate is
    // (Mirrokni et al., "Consistent Hashing with Bounded Loads": 1.25 keeps every server
    // within 25% of the mean while moving few requests off their preferred server); a
    // candidate with at most this prompt's size of prefill queued is never passed over:
    // it is running its requests, not queueing them.
    double boundedLoadFactor = DEFAULT_BOUNDED_LOAD_FACTOR;
    // `kv_pressure_start`, `kv_pressure_match_keep`: above this scraped KV-cache usage a
    // server is evicting, so the index's belief that it holds a prefix fades linearly, to
    // `kv_pressure_match_keep` of the match at usage 1. Fleet simulator: keeping 0.75
    // rather than 0.5 matters where every engine runs that full (servers with 2,000 KV
    // blocks, past saturation): fewer conversations leave the server holding them (W5z at
    // 1.2: throughput +3.5%, TTFT p99 -21%; W3 at 1.2: +1.3%, -5%); on the default servers
    // only W2 at twice saturation moves (TTFT p99 +5%, still 0.69x the best preset's).
    double kvPressureStart = DEFAULT_KV_PRESSURE_START;
    double kvPressureMatchKeep = DEFAULT_KV_PRESSURE_MATCH_KEEP;
    // `engine_queue_weight`: how far to trust the scraped waiting queue (it also counts
    // requests from other gateway replicas, which this gateway's counters miss); 0 =
    // router counters only.
    double engineQueueWeight = DEFAULT_ENGINE_QUEUE_WEIGHT;
    // `backlog_weight`: how much more a cache miss costs while the fleet has a backlog.
    // Uncached tokens are weighted 1 + backlog_weight x backlog, where backlog = the
    // candidates' mean queued prefill / this prompt's tokens (about how many prompts like
    // this one already wait at each server): recomputing a prefix delays this request,
    // and also everyone who queues behind it, and a replicated prefix evicts others. 0 =
    // plain predicted TTFT (greedy); 4 was best across the fleet simulator's workloads
    // (W1-W5, loads 50-120% of saturation, 3 seeds): 1-2 lose hits under load, 8 and
    // more over-concentrate shared-prefix bursts.
    double backlogWeight = DEFAULT_BACKLOG_WEIGHT;
    // `kv_miss_boost`, `kv_miss_start`, `kv_miss_min_match`: when KV memory is scarce, a
    // miss costs more than its recompute: the copy it makes of a long prefix evicts other
    // conversations' prefixes, which then miss in turn. So the backlog term is multiplied
    // by 1 + kv_miss_boost x pressure, pressure = the candidates' mean scraped KV usage
    // between kv_miss_start (0) and 1 (1); only for requests of which some candidate
    // holds at least kv_miss_min_match of the prompt (before the KV-pressure discount),
    // because copying a short shared head evicts little. Fleet simulator (10 seeds): on
    // W2, where 150 long system prompts fill 73% of the fleet's KV, TTFT p99 at
    // saturation drops 31% and now beats both SGLang presets; W1, W3 and W5 keep their
    // KV usage below the start and do not change; W4 (6,200-token questions after a
    // 1,000-token shared head) stays below the match share and does not change either,
    // while without that condition its TTFT p99 rose 9-38% at 80-120% load. 0 = off.
    double kvMissBoost = DEFAULT_KV_MISS_BOOST;
    double kvMissStart = DEFAULT_KV_MISS_START;
    double kvMissMinMatch = DEFAULT_KV_MISS_MIN_MATCH;
    // `idle_miss_weight`: the least miss weight of a prompt some candidate holds at least
    // kv_miss_min_match of, while the engines are not queueing. On such a fleet the backlog
    // term is about 1, so a conversation left its server as soon as that server had a
    // prompt or two in prefill; but the recompute elsewhere is one long step, and every
    // request arriving at that server meanwhile, and every sequence decoding there, waits
    // for it. So the miss weight is at least this while the engines' mean scraped waiting
    // queue is at most 1 and their KV usage at most kv_miss_start, fading to 1 (no floor)
    // as the queue reaches 2 or the usage kv_pressure_start, where the backlog and KV
    // terms take over; no floor without fresh metrics. Fleet simulator (W5/W5z, 6 hot
    // prefixes, multi-turn, 20 seeds): TTFT p99 at 20-40% load from 0.3-0.4 ms behind
    // SGLang's cache_aware (which never moves a conversation at light load) to level or
    // ahead; 5-7% lower at 60-120%. Ungated, it cost W1 past saturation 2% of throughput.
    // 1 = off.
    double idleMissWeight = DEFAULT_IDLE_MISS_WEIGHT;
    // `engine_queue_fade_ms`: the scraped waiting queue counts in full when just scraped,
    // less with its age, and not at all from this age (linearly). A waiting queue drains
    // within about one prefill step, while the gateway's own prefill counters are current
    // to the request; so an old engine queue, taken as the larger of the two, made a
    // server that has drained since look busy until the next scrape, and the requests
    // it turned away herded onto the servers scraped idle. Fleet simulator, 250 ms
    // scrapes, 5 seeds: W4 (little sharing) TTFT p99 at 60% load from 1.07x round robin
    // to level, at 80% from 1.25x to 1.15x; W1/W3 p99 up to 5% lower, W2 at twice round
    // robin's saturation 10% lower; behind 2 gateway replicas (which see each other only
    // through the engine queue) W2 still beats both SGLang presets. 0 = no fade (the
    // queue counts in full while the scrape is fresh).
    double engineQueueFadeMs = DEFAULT_ENGINE_QUEUE_FADE_MS;
    // `prefill_progress_weight`: while every candidate has a prompt of ours in prefill, a
    // candidate with exactly one counts as queued only what is left of it: its uncached
    // tokens minus this weight x the time since it was sent / the server's learned
    // prefill speed (BackendState::prefillUsPerToken). Without it the cost compares
    // whole prompts still counted until their first token, so a server about to finish
    // its prefill looked as busy as one that just started, and on a fleet that is
    // prefilling everywhere the choice fell by the shared head each one holds rather than
    // by whose prefill ends first. Only with one prompt: with more, which of them the
    // engine runs first, and in which chunks, is not known. Fleet simulator, 5 seeds: W4
    // (little sharing) TTFT p99 at 80% load from 1.15x round robin to level (0.200 ->
    // 0.176 s), W3 at 60-100% 1-3% lower, W1 at 120% +0.9% throughput, W2/W5/W5z within
    // 1%. 0 = off.
    double prefillProgressWeight = DEFAULT_PREFILL_PROGRESS_WEIGHT;
    // `widely_held_share`: a prompt head that at least this share of the candidates holds
    // (and at least two of them) costs the others nothing to lack: a server without it
    // pays one recompute to join the many that have it, and every later request that
    // carries it can go there. Without this, a server that lacks a head the rest of the
    // fleet shares, because its engine restarted (its index entries are forgotten) or it
    // just joined, was passed over by every request carrying that head until the others
    // queued a whole head's prefill more than it: fleet simulator, W3 (multi-turn chat,
    // one shared 1,000-token system prompt) with server 0 restarted after 20 of 60 s,
    // TTFT p50 at 80% load 0.022 s without the restart, 0.040 s with it, 0.024 s with
    // this rule. It also helps without restarts wherever the shared head was evicted
    // somewhere (W3 TTFT p99 0.5-12% lower at 20-120% load, behind two replicas 8-12%) and
    // moves no other workload's prefix_aware TTFT p99 by more than 3%. The head's length is
    // the k-th largest believed match, k = max(2, ceil(share x candidates)). 0 = off.
    double widelyHeldShare = DEFAULT_WIDELY_HELD_SHARE;
    // `replica_placement_slack`: for gateways run as several replicas without shared
    // state. Each replica's prefix index learns only its own decisions, so a prefix that
    // reaches the other replica first is placed, and cached, a second time. With a slack
    // > 0, a prompt no candidate holds half of goes to the candidate that rendezvous
    // hashing of the prompt block PLACEMENT_ANCHOR_BLOCKS past the best match picks
    // (the same on every replica: a new group's requests share that block), as long as
    // that candidate is within the load bound and costs at most this many prompt lengths
    // more than the cheapest. Fleet simulator, W2 behind 2 replicas at 80-120% load
    // (slack 0.5): hit rate 0.37-0.41 -> 0.47-0.49, TTFT p99 -23 to -38%, throughput +1 to
    // +5%; behind a single gateway it costs W2 and W4 up to 1.44x TTFT p99, hence off (0)
    // by default.
    double replicaPlacementSlack = 0.0;
    static constexpr int PLACEMENT_ANCHOR_BLOCKS = 32;
};

// Our default GPU policy (`prefix_aware`): send each request where it is predicted to
// get its first token soonest, counting what a cache miss costs the fleet, among servers
// not overloaded.
//
// Cost on candidate c, in prefill-token equivalents divided by its relative speed
// (effective weight):
//     cost_c = (queued_c + miss x uncached_c + decode_weight x decode_c) / weight_c
//   queued_c   = prompt tokens already waiting for prefill there: the gateway's own
//                inFlightPrefillTokens (always fresh; it counts only the uncached part of
//                requests it sent, thanks to Ranking::cachedPromptTokens; less a single
//                prompt's estimated progress while every candidate is prefilling, see
//                prefillProgressWeight), raised to the
//                engine's waiting queue x this request's smallest uncached size (the
//                same on every candidate), faded by the scrape's age (see
//                engineQueueFadeMs), when the scrape is fresh and shows more (other
//                replicas' traffic);
//   uncached_c = this prompt's tokens minus the blocks c is believed to hold x tokens per
//                block, the match discounted under KV pressure, or minus the head most
//                candidates hold if longer (see widelyHeldShare);
//   miss       = 1 + backlog_weight x mean(queued) / prompt tokens x kv: 1 on an idle
//                fleet (plain predicted TTFT), more as a backlog builds (see
//                backlogWeight); kv = 1 + kv_miss_boost x KV pressure when a candidate
//                holds most of the prompt, else 1 (see kvMissBoost); for such a prompt
//                at least idle_miss_weight while the engines do not queue (see
//                idleMissWeight);
//   decode_c   = the gateway's in-flight expected output tokens on c; decode_weight
//                counts in full only while the engines queue or run short of KV memory
//                (see decodeWeight).
// With no prefix sharing this is least-loaded by queued prefill plus half the decode
// load; with sharing, a cached server wins while the prefill it saves outweighs its
// extra queue, and the more so the busier the fleet.
//
// Bounded-load guard, on in-flight requests as in consistent hashing with bounded loads
// (counted in this request's tokens, so a fresh engine queue beyond the gateway's own
// count adds to it): load_c = (inFlightRequests_c x expectedTokens + the engine queue's
// excess over inFlightPrefillTokens_c) / weight_c; c is eligible iff
//     load_c <= bounded_load_factor x mean(load) + expectedTokens / weight_c
// (the slack of one request keeps an idle fleet all eligible), or queued_c <= this prompt's
// tokens (nothing waits there beyond about one prompt). Ineligible candidates rank
// after every eligible one, so a hot prefix overflows to the next-cheapest server, which
// then records and holds it too: hot prefixes replicate instead of hot-spotting. Requests
// rather than tokens: a server full of cache hits holds long prompts that cost it little,
// and a token bound would push their follow-up turns off the server holding their history
// (the fleet simulator's Zipf-skewed multi-turn workload W5z: TTFT p99 -30%, no loss
// elsewhere).
//
// Lowest cost first; exact ties (on an idle fleet the decode term is off) go to the
// candidate with the fewest decode tokens in flight per weight, so a new prefix is placed
// where the fewest sequences share the steps, then random; fallbacks by cost (eligible
// first). The
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
    // The share of a believed match still trusted at this KV pressure.
    double matchKept(const EngineSignals &engine) const;
    // The candidate replica-consistent placement prefers (see replicaPlacementSlack), or
    // -1: none, or none within the slack.
    int sharedPlacement(GpuCandidateSet &set, std::span<const double> costs, std::span<const char> eligible,
                        double promptTokens) const;
    // The share of decode_weight in force (see decodeWeight): `meanWaiting` < 0 = no
    // fresh metrics, `meanKvUsage` < 0 = unknown.
    double decodeScale(double meanWaiting, double meanKvUsage) const;
    // The least miss weight of a prompt mostly held somewhere (see idleMissWeight), same
    // arguments.
    double idleMissFloor(double meanWaiting, double meanKvUsage) const;
    // The share of a fresh scraped waiting queue still counted at its age (see
    // engineQueueFadeMs).
    double engineQueueKept(const EngineSignals &engine) const;
    // The candidate's prefill still queued by the gateway's own counters, less the
    // estimated progress of a single prompt while `everyonePrefilling` (see
    // prefillProgressWeight).
    double routerQueued(const BackendState &state, bool everyonePrefilling) const;
    // The prompt head, in tokens, that widely_held_share of the candidates hold (see
    // widelyHeldShare); 0 when off or too few candidates. `scratch` has one entry each.
    double widelyHeldTokens(std::span<const double> cached, std::span<double> scratch) const;
    // The factor kv of the miss weight (see kvMissBoost); `meanKvUsage` < 0 = unknown.
    double kvMissFactor(double meanKvUsage, double bestMatchedTokens, double promptTokens) const;

    PrefixAwareParams m_params;
    PrefixMatchSource *m_source;
};

} // namespace Gateway::Routing
