#include "runtime/backendmonitor.h"

#include <QTest>

using Gateway::Runtime::AttemptOutcome;
using Gateway::Runtime::BackendMonitor;

class TestBackendMonitor final : public QObject {
    Q_OBJECT

private slots:
    void tracksPromptsUntilTheirFirstToken();
    void anAttemptWithoutAFirstTokenLeavesNoPrefillBehind();
};

void TestBackendMonitor::tracksPromptsUntilTheirFirstToken()
{
    BackendMonitor monitor {QByteArrayLiteral("gpu-0"), {}};
    BackendMonitor::PendingPrefill first = monitor.started({4100, 4000, 100}, 1000);
    QVERIFY(first.pending);
    QVERIFY(first.ticket.alone);
    BackendMonitor::PendingPrefill second = monitor.started({2100, 2000, 100}, 5000);
    QVERIFY(!second.ticket.alone); // the first is still prefilling there
    QCOMPARE(monitor.prefillsInFlight(), 2);
    QCOMPARE(monitor.inFlightPrefillTokens(), std::int64_t {6000});
    QCOMPARE(monitor.lastPrefillSentUs(), std::int64_t {5000});
    QCOMPARE(monitor.prefillUsPerToken(), 0.0);

    // The first prompt's first token 80 ms after it was sent: 20 µs per token learned.
    monitor.prefillDone(first, 81000);
    QVERIFY(!first.pending);
    QCOMPARE(monitor.prefillsInFlight(), 1);
    QCOMPARE(monitor.inFlightPrefillTokens(), std::int64_t {2000});
    QCOMPARE(monitor.prefillUsPerToken(), 20.0);
    monitor.prefillDone(first, 90000); // a second call changes nothing
    QCOMPARE(monitor.prefillsInFlight(), 1);

    // The second waited behind the first: it teaches no speed.
    monitor.prefillDone(second, 200000);
    QCOMPARE(monitor.prefillsInFlight(), 0);
    QCOMPARE(monitor.inFlightPrefillTokens(), std::int64_t {0});
    QCOMPARE(monitor.prefillUsPerToken(), 20.0);

    AttemptOutcome outcome;
    outcome.ttftMs = 80;
    outcome.latencyMs = 500;
    outcome.outputTokens = 100;
    monitor.finished({4100, 4000, 100}, first, outcome, 1);
    monitor.finished({2100, 2000, 100}, second, outcome, 1);
    QCOMPARE(monitor.inFlightTokens(), std::int64_t {0});
    QCOMPARE(monitor.inFlightDecodeTokens(), std::int64_t {0});
    QCOMPARE(monitor.prefillsInFlight(), 0);
}

void TestBackendMonitor::anAttemptWithoutAFirstTokenLeavesNoPrefillBehind()
{
    BackendMonitor monitor {QByteArrayLiteral("gpu-0"), {}};
    BackendMonitor::PendingPrefill attempt = monitor.started({4100, 4000, 100}, 1000);
    AttemptOutcome failed;
    failed.failed = true;
    failed.reason = QByteArrayLiteral("connection reset");
    monitor.finished({4100, 4000, 100}, attempt, failed, 1);
    QVERIFY(!attempt.pending);
    QCOMPARE(monitor.prefillsInFlight(), 0);
    QCOMPARE(monitor.inFlightPrefillTokens(), std::int64_t {0});
    QCOMPARE(monitor.prefillUsPerToken(), 0.0);
    // The next prompt there is alone again.
    QVERIFY(monitor.started({100, 0, 100}, 2000).ticket.alone);
}

QTEST_GUILESS_MAIN(TestBackendMonitor)
#include "testbackendmonitor.moc"
