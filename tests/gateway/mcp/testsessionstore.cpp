// The in-process MCP session table: an owner per server and session id, an idle TTL
// that each use renews (an injected clock, so nothing waits), removal, and a bounded
// size that evicts expired entries first and then the idlest.

#include "mcp/localsessionstore.h"

#include <QTest>

using Gateway::Mcp::LocalSessionStore;
using Gateway::Mcp::SessionOwner;

class TestSessionStore final : public QObject {
    Q_OBJECT

private slots:
    void ownersArePerServer() const
    {
        qint64 now = 0;
        LocalSessionStore store {100, [&now] { return now; }};
        store.put(QStringLiteral("files"), "s1", {"http://a/mcp", QStringLiteral("alice")}, 1000);
        store.put(QStringLiteral("github"), "s1", {"http://b/mcp", QStringLiteral("bob")}, 1000);
        QCOMPARE(store.find(QStringLiteral("files"), "s1", 1000)->upstreamUrl, QByteArray("http://a/mcp"));
        QCOMPARE(store.find(QStringLiteral("github"), "s1", 1000)->keyName, QStringLiteral("bob"));
        QVERIFY(!store.find(QStringLiteral("files"), "s2", 1000));
        store.remove(QStringLiteral("files"), "s1");
        QVERIFY(!store.find(QStringLiteral("files"), "s1", 1000));
        QVERIFY(store.find(QStringLiteral("github"), "s1", 1000));
    }

    void useRenewsTheIdleTtl() const
    {
        qint64 now = 0;
        LocalSessionStore store {100, [&now] { return now; }};
        store.put(QStringLiteral("files"), "s1", {"http://a/mcp", {}}, 1000);
        now = 900;
        QVERIFY(store.find(QStringLiteral("files"), "s1", 1000)); // renewed until 1900
        now = 1800;
        QVERIFY(store.find(QStringLiteral("files"), "s1", 1000)); // until 2800
        now = 2800;
        QVERIFY(!store.find(QStringLiteral("files"), "s1", 1000)); // idle for a whole TTL
        QCOMPARE(store.size(), 0);
    }

    void countsOnlyLiveSessions() const
    {
        qint64 now = 0;
        LocalSessionStore store {100, [&now] { return now; }};
        store.put(QStringLiteral("files"), "s1", {"u", {}}, 1000);
        store.put(QStringLiteral("files"), "s2", {"u", {}}, 5000);
        store.put(QStringLiteral("github"), "s3", {"u", {}}, 5000);
        now = 2000;
        const auto counts = store.countsByServer();
        QCOMPARE(counts.at(QStringLiteral("files")), 1);
        QCOMPARE(counts.at(QStringLiteral("github")), 1);
    }

    void sizeIsBoundedExpiredFirstThenIdlest() const
    {
        qint64 now = 0;
        LocalSessionStore store {10, [&now] { return now; }};
        for (int i = 0; i < 10; ++i) {
            store.put(QStringLiteral("files"), "s" + QByteArray::number(i), {"u", {}}, i == 0 ? 10 : 1000 + i);
        }
        now = 100; // s0 has expired
        store.put(QStringLiteral("files"), "new1", {"u", {}}, 5000);
        QCOMPARE(store.size(), 10);
        QVERIFY(store.find(QStringLiteral("files"), "s1", 5000)); // renewed: no longer the idlest
        // Full of live sessions: the idlest go (s2 expires soonest now that s1 was renewed).
        store.put(QStringLiteral("files"), "new2", {"u", {}}, 5000);
        QVERIFY(store.size() <= 10);
        QVERIFY(!store.find(QStringLiteral("files"), "s2", 1000));
        QVERIFY(store.find(QStringLiteral("files"), "new1", 5000));
        QVERIFY(store.find(QStringLiteral("files"), "new2", 5000));
        for (int i = 0; i < 1000; ++i) {
            store.put(QStringLiteral("files"), "flood" + QByteArray::number(i), {"u", {}}, 100000);
        }
        QVERIFY(store.size() <= 10);
    }
};

QTEST_APPLESS_MAIN(TestSessionStore)
#include "testsessionstore.moc"
