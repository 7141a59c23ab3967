#pragma once

#include <QtGlobal>

namespace Gateway::Governance {

// Budget windows are UTC calendar days and months: what finance reconciles against
// and what providers bill by. Pure arithmetic on Unix epoch milliseconds (days from
// the civil calendar, after Howard Hinnant's "chrono-compatible low-level date
// algorithms"), so the hot path never touches time-zone tables.

inline constexpr qint64 MS_PER_DAY = 86'400'000;

// Days since 1970-01-01 (floored, so times before the epoch work too).
qint64 utcDay(qint64 epochMs);
// Months since 1970-01 (1970-01 = 0).
qint64 utcMonth(qint64 epochMs);
// Epoch ms at which the window containing epochMs ends.
qint64 nextUtcDayStartMs(qint64 epochMs);
qint64 nextUtcMonthStartMs(qint64 epochMs);
// Epoch ms at which the day / month containing epochMs began.
qint64 utcDayStartMs(qint64 epochMs);
qint64 utcMonthStartMs(qint64 epochMs);

} // namespace Gateway::Governance
