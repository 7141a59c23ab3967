// UTC day and month windows from epoch milliseconds, checked against QDateTime.

#include "governance/utcwindow.h"

#include <QDateTime>
#include <QTest>
#include <QTimeZone>

using namespace Gateway::Governance;

namespace {

qint64 utcMs(int year, int month, int day, int hour = 0)
{
    return QDateTime(QDate(year, month, day), QTime(hour, 0), QTimeZone::utc()).toMSecsSinceEpoch();
}

} // namespace

class TestUtcWindow final : public QObject {
    Q_OBJECT

private slots:
    void daysAndMonthsMatchTheCalendar() const
    {
        QCOMPARE(utcDay(0), 0);
        QCOMPARE(utcMonth(0), 0);
        QCOMPARE(utcDay(-1), -1);
        QCOMPARE(utcMonth(utcMs(1970, 12, 31, 23)), 11);
        QCOMPARE(utcMonth(utcMs(2024, 2, 29, 12)), (2024 - 1970) * 12 + 1);
        QCOMPARE(utcDayStartMs(utcMs(2026, 11, 22, 13)), utcMs(2026, 11, 22));
        QCOMPARE(nextUtcDayStartMs(utcMs(2026, 11, 22, 13)), utcMs(2026, 11, 23));
    }

    void monthBoundariesIncludingLeapYearsAndDecember() const
    {
        QCOMPARE(utcMonthStartMs(utcMs(2024, 2, 29, 23)), utcMs(2024, 2, 1));
        QCOMPARE(nextUtcMonthStartMs(utcMs(2024, 2, 29, 23)), utcMs(2024, 3, 1));
        QCOMPARE(nextUtcMonthStartMs(utcMs(2023, 2, 28)), utcMs(2023, 3, 1));
        QCOMPARE(nextUtcMonthStartMs(utcMs(2026, 12, 31, 23)), utcMs(2027, 1, 1));
        QCOMPARE(utcMonthStartMs(utcMs(2000, 3, 1)), utcMs(2000, 3, 1));
        // Every month start of three years agrees with QDate.
        for (int year = 2023; year <= 2025; ++year) {
            for (int month = 1; month <= 12; ++month) {
                const qint64 mid = utcMs(year, month, 15, 6);
                QCOMPARE(utcMonthStartMs(mid), utcMs(year, month, 1));
                QCOMPARE(utcMonth(mid), (year - 1970) * 12 + month - 1);
            }
        }
    }
};

QTEST_APPLESS_MAIN(TestUtcWindow)
#include "testutcwindow.moc"
