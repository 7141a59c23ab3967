#pragma once

// Prefill/decode disaggregation: which pool a target serves, and the per-request
// decision whether to run the prompt's prefill on a separate prefill server.

#include "backendsnapshot.h"

#include <QString>
#include <QStringList>

#include <cstdint>
#include <optional>

namespace Gateway::Routing {

// Which step of a request a target serves (config `targets[].pool`). A server set up for
// disaggregated serving (vLLM with a KV connector) takes prefill-only requests, decode
// requests that import the prompt's KV blocks, or both.
enum class TargetPool {
    Both,    // no `pool`: aggregated serving, and a decode target of P/D routes
    Prefill, // `prefill`: only ever gets the prefill step (max_tokens 1)
    Decode,  // `decode`: serves requests, with or without a remote prefill
};

QString targetPoolName(TargetPool pool); // "" for Both
std::optional<TargetPool> parseTargetPool(const QString &name);
QStringList targetPoolNames(); // the names a document may use

// A route's P/D settings (config `routes[].pd`).
struct PrefillDecodeSettings {
    // llm-d's prefix-based decider: disaggregate only when more than this many prompt
    // tokens are not already cached on the chosen decode server. 16 is the value the BLIS
    // P/D study calls llm-d's current path; 0 disaggregates whenever any token is uncached
    // (llm-d's own code treats 0 as "off"; here `enabled: false` says that explicitly).
    int uncachedTokensThreshold = 16;
    // false: every request runs aggregated on the decode targets (the prefill pool idles).
    bool enabled = true;
    // The prefill pool's own load and cache (Dynamo's conditional disaggregation weighs the
    // prefill queue too; llm-d's decider does not): a request the threshold would split
    // still runs aggregated when the prefill server's work for it (the uncached prompt
    // tokens already in flight there plus the prompt tokens it lacks itself) exceeds this
    // multiple of the decode server's (its in-flight uncached tokens plus the prompt tokens
    // it lacks). 1: split only when the prefill server gets the first token out no later
    // than the decode server would; 0: no such check (llm-d's rule alone).
    double maxPrefillWorkRatio = 1.0;

    bool operator==(const PrefillDecodeSettings &) const = default;
};

inline constexpr int MAX_UNCACHED_TOKENS_THRESHOLD = 100000000;
inline constexpr double MAX_PREFILL_WORK_RATIO = 1000.0;

enum class PdDecision { Aggregated, Disaggregated };

struct PdVerdict {
    PdDecision decision = PdDecision::Aggregated;
    int uncachedTokens = 0; // prompt tokens the decode server would have to prefill itself
};

// The decision for one request, given the prompt's (estimated) tokens and how many of
// them the chosen decode server is predicted to hold (Ranking::cachedPromptTokens).
// Disaggregated iff enabled and uncached > threshold. Pure: no state, no clock.
PdVerdict decidePrefillDecode(const PrefillDecodeSettings &settings, int promptTokens, int cachedPromptTokens);

// What each side would have to prefill before the request's first token.
struct PdWork {
    int promptTokens = 0;
    int cachedOnDecode = 0;                 // the chosen decode server's predicted cached prompt tokens
    std::int64_t decodeBacklogTokens = 0;   // uncached prompt tokens in flight on the decode server
    int cachedOnPrefill = 0;                // the same two for the first-ranked prefill server
    std::int64_t prefillBacklogTokens = 0;
};

struct PdWorkComparison {
    std::int64_t prefillWork = 0; // prefill backlog + prompt tokens the prefill server lacks
    std::int64_t decodeWork = 0;  // decode backlog + prompt tokens the decode server lacks
    bool allowsSplit = true;      // the prefill side is cheap enough (or the check is off)
};

// PdWork with both backlogs read from the router's snapshot
// (BackendState::inFlightPrefillTokens; 0 for a backend it does not list).
PdWork pdWorkFrom(const BackendSnapshot &snapshot, int promptTokens, int decodeBackendId, int cachedOnDecode,
                  int prefillBackendId, int cachedOnPrefill);

// The second half of the decision, for a request decidePrefillDecode() would split, once
// the prefill server is known: allowsSplit iff maxPrefillWorkRatio is 0 or prefillWork <=
// maxPrefillWorkRatio x decodeWork. Pure, like decidePrefillDecode().
PdWorkComparison comparePrefillWork(const PrefillDecodeSettings &settings, const PdWork &work);

const char *pdDecisionName(PdDecision decision); // "aggregated" | "disaggregated"

} // namespace Gateway::Routing
