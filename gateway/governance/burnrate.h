#pragma once

#include <QtGlobal>

#include <deque>
#include <optional>

namespace Gateway::Governance {

// How fast one budget is being spent, from successive readings of its spend (dollars or
// tokens) taken by whoever watches it (the consoles poll the limit store). The rate is
// the slope between the oldest and newest readings of the last WindowMs, so one burst
// fades out after the window; a reading lower than the previous one (a new UTC window
// began) starts over. Pure: time is passed in.
class BurnRate final {
public:
    static constexpr qint64 WindowMs = 10 * 60 * 1000;
    // No rate from readings closer together than this: two polls a moment apart say
    // little about an hour.
    static constexpr qint64 MinSpanMs = 3000;

    void add(qint64 nowMs, double spent);
    // Units per hour; nullopt until readings span MinSpanMs.
    std::optional<double> perHour() const;

private:
    std::deque<std::pair<qint64, double>> m_readings; // (ms, spent), oldest first
};

// When a budget of `limit` runs out at `perHour`, starting from `spent` at `nowMs`: now
// when already reached; nothing without a limit, without spend, or when the window ends
// (at windowEndMs, 0 = never) first.
std::optional<qint64> projectedExhaustionMs(double spent, double limit, double perHour, qint64 nowMs,
                                            qint64 windowEndMs);

} // namespace Gateway::Governance
