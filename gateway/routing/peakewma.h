#pragma once

#include <QtGlobal>

namespace Gateway::Routing {

// Peak-sensitive exponentially weighted moving average, after Finagle's PeakEwma load
// balancer: quick to react to a latency spike, cautious to forget it.
//
// - observe(sample, now): a sample above the current value (value(now)) replaces it at
//   once; otherwise the average moves toward the sample with the weight of the elapsed
//   time since the last observation: v = v_last * w + sample * (1 - w),
//   w = exp(-dt / decay_ms). Weighting by elapsed time, not by sample count, keeps the
//   decay rate the same whether samples arrive every millisecond or every minute.
// - value(now): the last average decayed toward 0 by the time since it was observed
//   (v_last * w), as Finagle's estimate fades while a backend gets no traffic: an idle
//   backend's old spike is gradually forgotten, so it is tried again and re-measured.
//   An EWMA never observed is 0 ("no sample yet").
//
// A small value class: not thread-safe. The owner (one per backend and metric) guards
// it, e.g. with the mutex that already protects the backend's statistics.
class PeakEwma {
public:
    // Config key `decay_ms`: the time constant tau.
    static constexpr qint64 DEFAULT_DECAY_MS = 10000;
    // tau must be positive; anything smaller means "remember for a millisecond".
    static constexpr qint64 MIN_DECAY_MS = 1;

    explicit PeakEwma(qint64 decayMs = DEFAULT_DECAY_MS);

    void observe(double sample, qint64 nowMs);
    double value(qint64 nowMs) const;

    qint64 decayMs() const { return m_decayMs; }

private:
    // exp(-dt / tau) since the last observation; 1 when time has not advanced (or ran backwards).
    double decayFactor(qint64 nowMs) const;

    qint64 m_decayMs;
    double m_value = 0.0;
    qint64 m_stampMs = 0; // time of the last observation
};

} // namespace Gateway::Routing
