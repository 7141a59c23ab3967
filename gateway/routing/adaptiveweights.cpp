#include "adaptiveweights.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace Gateway::Routing {

namespace {

constexpr int MIN_INTERVAL_MS = 100;
constexpr double MIN_SMOOTHING = 0.01;          // below this a new reading would hardly count
constexpr double MAX_ERROR_SENSITIVITY = 1e6;
constexpr double MAX_LATENCY_EXPONENT = 8.0;
constexpr double MIN_FACTOR = 1e-6;             // factors stay > 0 so products stay meaningful
constexpr double MIN_WEIGHT = 1e-9;             // TargetFactors::weight must be > 0
constexpr double FULL_MOMENTUM_EPSILON = 1e-9;  // absorbs rounding on the last recovery step

// NaN and out-of-range values fall back or clamp, so a bad config value cannot poison weights.
double sanitised(double value, double low, double high, double fallback)
{
    if (std::isnan(value)) {
        return fallback;
    }
    return std::clamp(value, low, high);
}

double factorOrOne(double value)
{
    return sanitised(value, MIN_FACTOR, 1.0, 1.0);
}

} // namespace

AdaptiveWeights::AdaptiveWeights()
    : AdaptiveWeights {Parameters {}}
{
}

AdaptiveWeights::AdaptiveWeights(const Parameters &parameters)
    : m_parameters {parameters}
{
    const Parameters defaults;
    auto &p = m_parameters;
    p.intervalMs = std::max(p.intervalMs, MIN_INTERVAL_MS);
    p.errorSensitivity = sanitised(p.errorSensitivity, 0.0, MAX_ERROR_SENSITIVITY, defaults.errorSensitivity);
    p.errorSmoothing = sanitised(p.errorSmoothing, MIN_SMOOTHING, 1.0, defaults.errorSmoothing);
    p.errorPriorAttempts =
        sanitised(p.errorPriorAttempts, 0.0, std::numeric_limits<double>::max(), defaults.errorPriorAttempts);
    p.referenceOutputTokens = std::max(p.referenceOutputTokens, 1);
    p.latencyExponent = sanitised(p.latencyExponent, 0.0, MAX_LATENCY_EXPONENT, defaults.latencyExponent);
    p.utilisationPriorTokens =
        sanitised(p.utilisationPriorTokens, 0.0, std::numeric_limits<double>::max(), defaults.utilisationPriorTokens);
    p.utilisationSmoothing = sanitised(p.utilisationSmoothing, MIN_SMOOTHING, 1.0, defaults.utilisationSmoothing);
    p.recoveryIntervals = std::max(p.recoveryIntervals, 1);
    p.minWeightShare = sanitised(p.minWeightShare, 0.0, 1.0, defaults.minWeightShare);
}

double AdaptiveWeights::expectedLatencyMs(double ttftMs, double latencyPerTokenMs) const
{
    return std::max(0.0, ttftMs) + std::max(0.0, latencyPerTokenMs) * m_parameters.referenceOutputTokens;
}

double AdaptiveWeights::penaltyFromErrorRate(double errorRate) const
{
    return 1.0 / (1.0 + m_parameters.errorSensitivity * errorRate);
}

double AdaptiveWeights::errorRateFromPenalty(double penalty) const
{
    // The smoothed error rate is not stored separately: the penalty is a bijection of it,
    // so TargetFactors alone carries the state from one interval to the next.
    if (m_parameters.errorSensitivity <= 0.0) {
        return 0.0;
    }
    return std::clamp((1.0 / factorOrOne(penalty) - 1.0) / m_parameters.errorSensitivity, 0.0, 1.0);
}

std::vector<TargetFactors> AdaptiveWeights::compute(std::span<const TargetSample> samples) const
{
    std::vector<TargetFactors> out;
    compute(samples, out);
    return out;
}

void AdaptiveWeights::compute(std::span<const TargetSample> samples, std::vector<TargetFactors> &out) const
{
    const auto &p = m_parameters;
    const std::size_t count = samples.size();
    out.resize(count);
    if (count == 0) {
        return;
    }

    // Best known latency components across peers: an unknown component is assumed as good
    // as the best peer's, so a missing TTFT (non-streaming traffic) is not a bonus.
    constexpr double NONE = std::numeric_limits<double>::infinity();
    double bestTtft = NONE;
    double bestPerToken = NONE;
    for (const auto &sample : samples) {
        if (sample.ttftMs > 0.0) {
            bestTtft = std::min(bestTtft, sample.ttftMs);
        }
        if (sample.latencyPerTokenMs > 0.0) {
            bestPerToken = std::min(bestPerToken, sample.latencyPerTokenMs);
        }
    }
    const auto expectedOf = [&](const TargetSample &sample) {
        if (!(sample.ttftMs > 0.0) && !(sample.latencyPerTokenMs > 0.0)) {
            return 0.0; // unknown
        }
        const double ttft = sample.ttftMs > 0.0 ? sample.ttftMs : (bestTtft < NONE ? bestTtft : 0.0);
        const double perToken =
            sample.latencyPerTokenMs > 0.0 ? sample.latencyPerTokenMs : (bestPerToken < NONE ? bestPerToken : 0.0);
        return expectedLatencyMs(ttft, perToken);
    };
    double bestExpected = NONE;
    for (const auto &sample : samples) {
        const double expected = expectedOf(sample);
        if (expected > 0.0) {
            bestExpected = std::min(bestExpected, expected);
        }
    }

    const double lowestMomentum = penaltyFromErrorRate(1.0);
    const double recoveryStep = (1.0 - lowestMomentum) / p.recoveryIntervals;

    // Pass 1: error penalty, momentum, latency, and each target's expected share of the
    // route's in-flight tokens (intended traffic share x expected duration).
    double totalExpectedLoad = 0.0;
    double totalTokens = 0.0;
    for (std::size_t i = 0; i < count; ++i) {
        const TargetSample &sample = samples[i];
        TargetFactors &factors = out[i];
        const bool circuitOpen = sample.health == HealthState::Failed;
        const double attempts = static_cast<double>(std::max<std::int64_t>(0, sample.attempts));
        const double failures = std::clamp(static_cast<double>(sample.failures), 0.0, attempts);
        const double denominator = attempts + p.errorPriorAttempts;
        const double intervalRate = denominator > 0.0 ? failures / denominator : 0.0;

        const double previousRate = errorRateFromPenalty(sample.previous.errorPenalty);
        // While the circuit is open no traffic flows, so there is no evidence to forget with.
        const double smoothedRate = circuitOpen && attempts == 0.0
            ? previousRate
            : previousRate + p.errorSmoothing * (intervalRate - previousRate);
        factors.errorPenalty = factorOrOne(penaltyFromErrorRate(smoothedRate));

        const double previousMomentum = sanitised(sample.previous.momentum, lowestMomentum, 1.0, 1.0);
        if (failures > 0.0 || circuitOpen) {
            const double drop = penaltyFromErrorRate(circuitOpen ? 1.0 : intervalRate);
            factors.momentum = std::min(previousMomentum, drop);
        } else {
            factors.momentum = previousMomentum + recoveryStep;
            if (factors.momentum >= 1.0 - FULL_MOMENTUM_EPSILON) {
                factors.momentum = 1.0;
            }
        }
        factors.momentum = factorOrOne(factors.momentum);

        const double expected = expectedOf(sample);
        factors.latencyScore = expected > 0.0 && bestExpected < NONE
            ? factorOrOne(std::pow(bestExpected / expected, p.latencyExponent))
            : 1.0;

        const double configured = std::max(0.0, sanitised(sample.configuredWeight, 0.0, NONE, 0.0));
        const double health = circuitOpen ? 0.0 : sanitised(sample.healthWeight, 0.0, 1.0, 1.0);
        const double intended =
            configured * health * factors.errorPenalty * factors.momentum * factors.latencyScore;
        // Little's law: in flight = rate x duration. Unknown latency reads as the best peer's,
        // matching its latencyScore of 1; with no latency known at all durations cancel out.
        const double duration = expected > 0.0 ? expected : (bestExpected < NONE ? bestExpected : 1.0);
        // Stash the expected load in `weight` until pass 2 turns it into the real weight.
        factors.weight = intended * duration;
        totalExpectedLoad += factors.weight;
        totalTokens += static_cast<double>(std::max<std::int64_t>(0, sample.inFlightTokens));
    }

    // Pass 2: utilisation against the fair share, then the weight with its floor.
    for (std::size_t i = 0; i < count; ++i) {
        const TargetSample &sample = samples[i];
        TargetFactors &factors = out[i];
        const double fairShare =
            totalExpectedLoad > 0.0 ? factors.weight / totalExpectedLoad : 1.0 / static_cast<double>(count);
        double reading = 1.0;
        if (fairShare > 0.0 && totalTokens + p.utilisationPriorTokens > 0.0) {
            const double tokens = static_cast<double>(std::max<std::int64_t>(0, sample.inFlightTokens));
            const double share =
                (tokens + p.utilisationPriorTokens * fairShare) / (totalTokens + p.utilisationPriorTokens);
            reading = share > fairShare ? fairShare / share : 1.0;
        }
        const double previousUtilisation = factorOrOne(sample.previous.utilisation);
        factors.utilisation =
            factorOrOne(previousUtilisation + p.utilisationSmoothing * (reading - previousUtilisation));

        const double configured = std::max(0.0, sanitised(sample.configuredWeight, 0.0, NONE, 0.0));
        const double weight = configured * factors.errorPenalty * factors.latencyScore * factors.utilisation
            * factors.momentum;
        factors.weight = std::max({weight, p.minWeightShare * configured, MIN_WEIGHT});
    }
}

} // namespace Gateway::Routing
