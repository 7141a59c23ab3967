// --redis URLs: host, port, database, password from the URL or the environment, and a
// display form that never shows the password.

#include "shared/redisendpoint.h"

#include <QTest>

using Gateway::Shared::parseRedisUrl;

class TestRedisEndpoint final : public QObject {
    Q_OBJECT

private slots:
    void fullUrl()
    {
        const auto endpoint = parseRedisUrl(QStringLiteral("redis://ops:s3cret@10.0.0.5:6380/2"));
        QVERIFY(endpoint);
        QCOMPARE(endpoint->host, QStringLiteral("10.0.0.5"));
        QCOMPARE(endpoint->port, quint16 {6380});
        QCOMPARE(endpoint->database, 2);
        QCOMPARE(endpoint->username, QByteArray("ops"));
        QCOMPARE(endpoint->password, QByteArray("s3cret"));
        QCOMPARE(endpoint->display(), QStringLiteral("redis://10.0.0.5:6380/2"));
    }

    void defaultsAndEnvironmentPassword()
    {
        const auto endpoint = parseRedisUrl(QStringLiteral("redis://cache"), "from-env");
        QVERIFY(endpoint);
        QCOMPARE(endpoint->port, quint16 {6379});
        QCOMPARE(endpoint->database, 0);
        QVERIFY(endpoint->username.isEmpty());
        QCOMPARE(endpoint->password, QByteArray("from-env"));
        QVERIFY(!endpoint->display().contains(QStringLiteral("from-env")));
    }

    void urlPasswordWinsOverEnvironment()
    {
        const auto endpoint = parseRedisUrl(QStringLiteral("redis://:inurl@cache:7000"), "from-env");
        QVERIFY(endpoint);
        QCOMPARE(endpoint->password, QByteArray("inurl"));
    }

    void rejectsOtherSchemesAndBadDatabases()
    {
        for (const auto *bad : {"http://cache:6379", "redis://", "redis://cache/abc", "cache:6379"}) {
            const auto endpoint = parseRedisUrl(QString::fromLatin1(bad));
            QVERIFY2(!endpoint, bad);
        }
        const auto secret = parseRedisUrl(QStringLiteral("rediss://:topsecret@cache"));
        QVERIFY(!secret);
        QVERIFY2(!secret.error().contains(QStringLiteral("topsecret")), qPrintable(secret.error()));
    }
};

QTEST_APPLESS_MAIN(TestRedisEndpoint)
#include "testredisendpoint.moc"
