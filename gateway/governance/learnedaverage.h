#pragma once

#include <QtGlobal>

#include <atomic>

namespace Gateway::Governance {

// A lock-free running average of completion sizes (an EWMA with weight 1/16), used to
// estimate a request's output when it names no max_tokens. Relaxed atomics: a lost
// update between two threads only delays learning by one sample.
class LearnedAverage final {
public:
    explicit LearnedAverage(qint64 initial) : m_scaled {initial * SCALE} {}

    qint64 value() const { return m_scaled.load(std::memory_order_relaxed) / SCALE; }
    void observe(qint64 sample);

private:
    static constexpr qint64 SCALE = 16;
    std::atomic<qint64> m_scaled;
};

} // namespace Gateway::Governance
