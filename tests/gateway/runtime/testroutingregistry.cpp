#include "runtime/routingregistry.h"

#include <QTest>

using Gateway::Runtime::RoutingRegistry;

class TestRoutingRegistry final : public QObject {
    Q_OBJECT

private slots:
    void anEngineRestartIsReportedOnce();
    void aRestartAcrossTablesIsNotMissed();
};

void TestRoutingRegistry::anEngineRestartIsReportedOnce()
{
    RoutingRegistry registry;
    const int gpu = registry.stableId("gpu-1/llama");
    const int other = registry.stableId("gpu-2/llama");
    QVERIFY(gpu != other);

    // The first sighting is a baseline, whatever its count (restarts before this gateway
    // saw the backend emptied nothing it had recorded).
    QVERIFY(!registry.engineRestarted(gpu, 3));
    QVERIFY(!registry.engineRestarted(gpu, 3));
    // A higher count is a restart, reported to the first caller only.
    QVERIFY(registry.engineRestarted(gpu, 4));
    QVERIFY(!registry.engineRestarted(gpu, 4));
    // Another backend has its own count.
    QVERIFY(!registry.engineRestarted(other, 0));
    QVERIFY(registry.engineRestarted(other, 1));
    // A lower count (the scraper was rebuilt and counts from zero) is the new baseline.
    QVERIFY(!registry.engineRestarted(gpu, 0));
    QVERIFY(registry.engineRestarted(gpu, 1));
}

void TestRoutingRegistry::aRestartAcrossTablesIsNotMissed()
{
    // A policy change builds a new route table (and snapshot source) while the engines'
    // trackers keep counting: the count seen must outlive the old table.
    RoutingRegistry registry;
    const int gpu = registry.stableId("gpu-1/llama");
    QVERIFY(!registry.engineRestarted(gpu, 0)); // seen by the old table
    // The engine restarts while the tables are swapped; the new table's first look sees it.
    QVERIFY(registry.engineRestarted(gpu, 1));

    // A backend dropped from the policy is forgotten: when it comes back, its first
    // sighting is a baseline again.
    registry.retainBackends({});
    const int again = registry.stableId("gpu-1/llama");
    QVERIFY(!registry.engineRestarted(again, 5));
}

QTEST_GUILESS_MAIN(TestRoutingRegistry)
#include "testroutingregistry.moc"
