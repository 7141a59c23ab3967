#include "utcwindow.h"

namespace Gateway::Governance {

namespace {

qint64 floorDiv(qint64 a, qint64 b)
{
    const qint64 q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

struct Civil {
    qint64 year;
    unsigned month; // 1..12
};

// Days since the epoch -> year and month (Hinnant's civil_from_days, eras of 400 years).
Civil civilFromDays(qint64 days)
{
    days += 719468;
    const qint64 era = floorDiv(days, 146097);
    const qint64 doe = days - era * 146097;                                // [0, 146096]
    const qint64 yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; // [0, 399]
    const qint64 doy = doe - (365 * yoe + yoe / 4 - yoe / 100);            // [0, 365]
    const qint64 mp = (5 * doy + 2) / 153;                                 // [0, 11], March-based
    const auto month = static_cast<unsigned>(mp < 10 ? mp + 3 : mp - 9);
    return {yoe + era * 400 + (month <= 2 ? 1 : 0), month};
}

// Year and month (day 1) -> days since the epoch (Hinnant's days_from_civil).
qint64 daysFromCivil(qint64 year, unsigned month)
{
    year -= month <= 2 ? 1 : 0;
    const qint64 era = floorDiv(year, 400);
    const qint64 yoe = year - era * 400;
    const qint64 mp = month > 2 ? month - 3 : month + 9;
    const qint64 doy = (153 * mp + 2) / 5; // day 1 of the month
    const qint64 doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

} // namespace

qint64 utcDay(qint64 epochMs)
{
    return floorDiv(epochMs, MS_PER_DAY);
}

qint64 utcMonth(qint64 epochMs)
{
    const Civil civil = civilFromDays(utcDay(epochMs));
    return (civil.year - 1970) * 12 + (civil.month - 1);
}

qint64 utcDayStartMs(qint64 epochMs)
{
    return utcDay(epochMs) * MS_PER_DAY;
}

qint64 nextUtcDayStartMs(qint64 epochMs)
{
    return (utcDay(epochMs) + 1) * MS_PER_DAY;
}

qint64 utcMonthStartMs(qint64 epochMs)
{
    const Civil civil = civilFromDays(utcDay(epochMs));
    return daysFromCivil(civil.year, civil.month) * MS_PER_DAY;
}

qint64 nextUtcMonthStartMs(qint64 epochMs)
{
    const Civil civil = civilFromDays(utcDay(epochMs));
    const bool december = civil.month == 12;
    return daysFromCivil(december ? civil.year + 1 : civil.year, december ? 1 : civil.month + 1) * MS_PER_DAY;
}

} // namespace Gateway::Governance
