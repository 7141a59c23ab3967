#include "charts/metrichistory.h"

#include "runtime/statussnapshot.h"

#include <QTest>

using Metric = Ui::MetricHistory::Metric;

namespace {

Gateway::StatusSnapshot snapshot(qint64 requests, qint64 errors, qint64 tokens)
{
    Gateway::StatusSnapshot s;
    s.totalRequests = requests;
    s.totalErrors = errors;
    s.requestsPerSecond = 2;
    Gateway::BackendStatus backend;
    backend.id = QStringLiteral("gpu/a");
    backend.requests = requests;
    backend.errors = errors;
    backend.tokensOut = tokens;
    backend.ttft = {40, 90};
    s.backends = {backend};
    Gateway::RouteStatus route;
    route.model = "chat";
    route.requests = requests;
    route.errors = errors;
    route.requestsPerSecond = 2;
    route.ttft = {50, 120};
    route.targets = {{0, 1, 1}};
    s.routes = {route};
    return s;
}

} // namespace

class TestMetricHistory final : public QObject {
    Q_OBJECT

private slots:
    void ratesComeFromCounterDeltas() const
    {
        Ui::MetricHistory history;
        history.addSnapshot(snapshot(100, 0, 1000), 0); // baseline only
        QCOMPARE(history.sampleCount(Ui::MetricHistory::allScope()), std::size_t {0});
        history.addSnapshot(snapshot(110, 1, 3000), 1000);
        history.addSnapshot(snapshot(120, 1, 3000), 2000);
        const auto errors = history.series(Ui::MetricHistory::routeScope(QStringLiteral("chat")), Metric::ErrorRate, 2000);
        QCOMPARE(errors.size(), std::size_t {2});
        QCOMPARE(errors[0].y(), 10.0);
        QCOMPARE(errors[0].x(), -1.0);
        QCOMPARE(errors[1].y(), 0.0);
        const auto tokens = history.series(Ui::MetricHistory::backendScope(QStringLiteral("gpu/a")), Metric::TokensPerSecond, 2000);
        QCOMPARE(tokens[0].y(), 2000.0);
        QCOMPARE(history.series(Ui::MetricHistory::allScope(), Metric::TtftP99, 2000)[0].y(), 120.0);
        QCOMPARE(history.scopes().first(), Ui::MetricHistory::allScope());
    }

    void counterResetIsZeroNotNegative() const
    {
        Ui::MetricHistory history;
        history.addSnapshot(snapshot(100, 5, 0), 0);
        history.addSnapshot(snapshot(3, 0, 0), 1000);
        QCOMPARE(history.series(Ui::MetricHistory::allScope(), Metric::ErrorRate, 1000)[0].y(), 0.0);
    }

    void costBecomesAnHourlyRate() const
    {
        Ui::MetricHistory history;
        history.addSnapshot(snapshot(0, 0, 0), 0);
        history.addCost(QStringLiteral("chat"), QStringLiteral("gpu/a"), 0.5, 500);
        history.addSnapshot(snapshot(1, 0, 0), 1000);
        const double perHour = 0.5 * 3600000.0 / static_cast<double>(Ui::MetricHistory::CostWindowMs);
        QCOMPARE(history.series(Ui::MetricHistory::routeScope(QStringLiteral("chat")), Metric::CostPerHour, 1000)[0].y(), perHour);
    }

    void ringIsBounded() const
    {
        Ui::MetricHistory history;
        for (qint64 i = 0; i < static_cast<qint64>(Ui::MetricHistory::Capacity) + 50; ++i) {
            history.addSnapshot(snapshot(i, 0, 0), i * 1000);
        }
        QCOMPARE(history.sampleCount(Ui::MetricHistory::allScope()), Ui::MetricHistory::Capacity);
    }
};

QTEST_APPLESS_MAIN(TestMetricHistory)
#include "testmetrichistory.moc"
