#pragma once

#include "backendsnapshot.h"

#include <cstdint>
#include <span>
#include <vector>

namespace Gateway::Routing {

// The adaptive strategy's weight calculator: a pure function the caller runs every
// `interval_ms` per route, feeding the counts gathered since the last run and the factors
// it returned last time. Its output goes into BackendSnapshot::routes, where AdaptivePolicy
// draws with it and the console shows it.
//
// Modelled on Bifrost's adaptive load balancing (score from error rate, latency,
// utilisation and momentum, recomputed every few seconds, plus exploration), with these
// changes:
// - Factors multiply instead of a weighted sum of penalties, so each one has a plain
//   meaning ("half the weight because twice as slow") that explain can show, and the
//   formula is published and tunable rather than fixed.
// - Latency is token-normalised and includes time to first token: targets are compared on
//   the expected time for the same reference request (ttft + perToken x
//   reference_output_tokens), so a target that happens to serve long answers is not
//   penalised, while a slow prefill is.
// - Utilisation measures in-flight tokens, not requests: one 100k-token prompt weighs
//   more than ten short chats. The fair share follows Little's law (in flight = rate x
//   duration): it is the target's intended traffic share (configured weight x health ramp
//   x error, momentum and latency factors) times its expected duration, so a target that
//   the other factors already slowed down, or that is slower per request, is not
//   penalised twice. Only load piling up beyond that (queueing the EWMAs have not caught
//   yet) lowers the factor.
// - Small samples are damped: each interval's error rate counts `error_prior_attempts`
//   pseudo-successes, so one failure on a quiet route is not read as 100% errors, and an
//   idle interval slowly forgets old errors.
// - The floor (`min_weight_share` x configured weight) keeps a penalised target probed.
//
// Factors per target (all in (0, 1]):
//   errorPenalty = 1 / (1 + error_sensitivity x smoothedErrorRate), where smoothedErrorRate
//                  is an EWMA (error_smoothing) of failures / (attempts + error_prior_attempts)
//                  recovered from the previous penalty, so one bad interval does not zero it.
//   latencyScore = (bestExpected / ownExpected)^latency_exponent; unknown latency = 1.
//   utilisation  = EWMA (utilisation_smoothing) of min(1, fairShare / tokenShare), where
//                  tokenShare adds utilisation_prior_tokens spread by fair share so a
//                  nearly idle route reads as balanced.
//   momentum     = on an interval with failures (or while the circuit is open), drops at
//                  once to min(previous, 1 / (1 + error_sensitivity x intervalErrorRate));
//                  after a clean interval it rises by (1 - lowest) / recovery_intervals
//                  (lowest = 1 / (1 + error_sensitivity)), so a recovered target needs up
//                  to recovery_intervals clean intervals to regain full weight instead of
//                  jumping back. Each open-circuit interval counts as 100% errors.
//   weight       = max(configured x errorPenalty x latencyScore x utilisation x momentum,
//                      min_weight_share x configured). The health ramp is not included:
//                      AdaptivePolicy multiplies it in per request, as it moves faster.
//
// Stateless apart from its parameters (fixed at construction): safe to call from any thread.
class AdaptiveWeights {
public:
    struct Parameters {
        // Config `interval_ms`: how often the caller runs compute(). Not used in the maths
        // (every step is per interval); kept here so the whole strategy reads from one struct.
        int intervalMs = 2000;
        // Config `error_sensitivity`: k in 1 / (1 + k x errorRate). 10 gives 0.5 at 10% errors
        // and 0.17 at 50%.
        double errorSensitivity = 10.0;
        // Config `error_smoothing`: EWMA weight of the newest interval's error rate.
        double errorSmoothing = 0.5;
        // Config `error_prior_attempts`: pseudo-successes added to every interval's attempts.
        double errorPriorAttempts = 4.0;
        // Config `reference_output_tokens`: the answer length latencies are compared at.
        int referenceOutputTokens = 256;
        // Config `latency_exponent`: 1 = weight inversely proportional to expected latency.
        double latencyExponent = 1.0;
        // Config `utilisation_prior_tokens`: in-flight tokens assumed spread by fair share,
        // so a handful of requests on an idle route is not read as imbalance.
        double utilisationPriorTokens = 8192.0;
        // Config `utilisation_smoothing`: EWMA weight of the newest utilisation reading.
        double utilisationSmoothing = 0.5;
        // Config `recovery_intervals`: clean intervals for momentum to climb from its
        // lowest value back to 1.
        int recoveryIntervals = 5;
        // Config `min_weight_share`: floor of the weight as a share of the configured weight.
        double minWeightShare = 0.01;
    };

    // One target's input for an interval, aligned with the route's targets.
    struct TargetSample {
        double configuredWeight = 1.0;
        std::int64_t attempts = 0; // since the previous run
        std::int64_t failures = 0; // since the previous run, <= attempts
        double latencyPerTokenMs = 0.0; // 0 = unknown
        double ttftMs = 0.0;            // 0 = unknown
        std::int64_t inFlightTokens = 0;
        HealthState health = HealthState::Healthy;
        double healthWeight = 1.0;
        TargetFactors previous; // what the previous run returned; defaults for a new target
    };

    AdaptiveWeights();
    explicit AdaptiveWeights(const Parameters &parameters);

    // Parameters after clamping to sane ranges (smoothing in (0, 1], counts >= 1, ...).
    const Parameters &parameters() const { return m_parameters; }

    // Fills `out` (resized to samples.size()) with the new factors. `out` may be reused
    // across runs to avoid allocation.
    void compute(std::span<const TargetSample> samples, std::vector<TargetFactors> &out) const;
    std::vector<TargetFactors> compute(std::span<const TargetSample> samples) const;

    // The expected milliseconds for a reference request: ttft + perToken x reference tokens.
    // Unknown parts (0) count as 0; compute() substitutes the best peer's value for them.
    double expectedLatencyMs(double ttftMs, double latencyPerTokenMs) const;

private:
    double errorRateFromPenalty(double penalty) const;
    double penaltyFromErrorRate(double errorRate) const;

    Parameters m_parameters;
};

} // namespace Gateway::Routing
