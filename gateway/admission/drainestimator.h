#pragma once

#include <QtGlobal>

#include <cstdint>

namespace Gateway::Admission {

// Learns how fast a group of inference slots works through queued tokens, and how long
// a request takes from being let through to its first token, so the queue can predict a
// waiting request's time to first token:
//
//     predicted TTFT = waited so far + forecast start + service TTFT
//
// where the forecast start replays the waiters ahead onto the slots (SlotForecast), each
// holding a slot for expectedHoldMs(its tokens). On average that is "tokens ahead /
// drain rate", the drain rate being the slot rate below times the number of slots.
//
// Slot rate. Each completed request reports the tokens it was charged with at admission
// (prompt estimate + expected output: the same unit the queue predicts in, so a
// systematic estimation error cancels out) and how long it held its slot. Two EWMAs, of
// tokens and of hold time, give a slot's throughput as their ratio (a ratio of means,
// not a mean of ratios, so one tiny fast request does not dominate). While anything is
// queued every slot is busy, and a GPU's per-request throughput at that concurrency is
// exactly what was measured then.
//
// Service TTFT. An EWMA of "slot granted -> first token" reported by the caller.
//
// Until a completion has been seen nothing is predicted (drainMs() returns -1) and the
// queue relies on max_queue_wait_ms alone. Not thread-safe: the queue guards it.
class DrainEstimator {
public:
    // Weight of the newest sample: about the last ten requests dominate, which follows a
    // change of load within seconds at the rates where queueing happens.
    static constexpr double EWMA_ALPHA = 0.2;

    void observeCompletion(std::int64_t tokens, qint64 holdMs);
    void observeServiceTtft(double ttftMs);

    bool knowsDrainRate() const { return m_holdMs > 0.0; }
    // Tokens per second one slot works through; 0 = unknown.
    double slotTokensPerSecond() const;
    // Milliseconds for `busySlots` busy slots to work through `tokens`; -1 = unknown (no
    // completion observed yet, or no slots).
    double drainMs(std::int64_t tokens, int busySlots) const;
    // How long a slot is expected to be held for a request charged `tokens`; -1 = unknown.
    double expectedHoldMs(std::int64_t tokens) const;
    // 0 until a first-token sample has been observed.
    double serviceTtftMs() const { return m_ttftMs; }

private:
    double m_tokens = 0.0;
    double m_holdMs = 0.0; // 0 = no completion observed
    double m_ttftMs = 0.0;
    bool m_sawTtft = false;
};

// Seconds for a Retry-After header: `ms` rounded up to whole seconds, at least 1 (a
// client told "0" retries at once, into the same overload) and at most
// MAX_RETRY_AFTER_SECONDS (past that the estimate says "much later", not when).
inline constexpr int MAX_RETRY_AFTER_SECONDS = 300;
int retryAfterSeconds(double ms);

} // namespace Gateway::Admission
