#pragma once

// Prefill/decode disaggregation: which pool a target serves, and the per-request
// decision whether to run the prompt's prefill on a separate prefill server.

#include <QString>
#include <QStringList>

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

    bool operator==(const PrefillDecodeSettings &) const = default;
};

inline constexpr int MAX_UNCACHED_TOKENS_THRESHOLD = 100000000;

enum class PdDecision { Aggregated, Disaggregated };

struct PdVerdict {
    PdDecision decision = PdDecision::Aggregated;
    int uncachedTokens = 0; // prompt tokens the decode server would have to prefill itself
};

// The decision for one request, given the prompt's (estimated) tokens and how many of
// them the chosen decode server is predicted to hold (Ranking::cachedPromptTokens).
// Disaggregated iff enabled and uncached > threshold. Pure: no state, no clock.
PdVerdict decidePrefillDecode(const PrefillDecodeSettings &settings, int promptTokens, int cachedPromptTokens);

const char *pdDecisionName(PdDecision decision); // "aggregated" | "disaggregated"

} // namespace Gateway::Routing
