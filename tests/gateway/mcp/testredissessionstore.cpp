// The MCP session table in a real redis-server: two stores (two gateways) see each
// other's sessions, TTLs live in Redis and are renewed by use, DELETE is shared; while
// Redis is down each store serves from its own mirror (sessions it knew keep working,
// new ones are local) and it reconnects on its own once Redis is back.

#include "mcp/redissessionstore.h"
#include "redisserver.h"

#include <QTest>

#include <hiredis/hiredis.h>

#include <memory>

using Gateway::Mcp::LocalSessionStore;
using Gateway::Mcp::RedisSessionStore;
using Gateway::Mcp::SessionOwner;
using TestSupport::RedisServer;

namespace {

const QString SERVER = QStringLiteral("files");
const SessionOwner OWNER {"http://127.0.0.1:9001/mcp", QStringLiteral("alice")};

} // namespace

class TestRedisSessionStore final : public QObject {
    Q_OBJECT

private slots:
    void init();
    void cleanup();

    void storesShareSessionsThroughRedis();
    void ttlLivesInRedis();
    void outageServesTheMirrorAndReconnects();

private:
    RedisSessionStore::Settings settings() const;

    std::unique_ptr<RedisServer> m_redis;
};

void TestRedisSessionStore::init()
{
    if (RedisServer::executable().isEmpty()) {
        QSKIP("redis-server is not installed (packaging/install-deps.sh installs it)");
    }
    m_redis = std::make_unique<RedisServer>();
    QVERIFY2(m_redis->start(), qPrintable(m_redis->error()));
}

void TestRedisSessionStore::cleanup()
{
    m_redis.reset();
}

RedisSessionStore::Settings TestRedisSessionStore::settings() const
{
    RedisSessionStore::Settings settings;
    settings.endpoint.host = QStringLiteral("127.0.0.1");
    settings.endpoint.port = m_redis->port();
    settings.timeouts = {2000, 2000}; // generous: the test machine may be busy
    settings.retryIntervalMs = 50;
    return settings;
}

void TestRedisSessionStore::storesShareSessionsThroughRedis()
{
    LocalSessionStore firstLocal;
    LocalSessionStore secondLocal;
    RedisSessionStore first {firstLocal, settings()};
    RedisSessionStore second {secondLocal, settings()};
    QVERIFY(first.isUp() && second.isUp());
    first.put(SERVER, "s1", OWNER, 60000);
    QCOMPARE(second.find(SERVER, "s1", 60000), std::optional<SessionOwner> {OWNER});
    QVERIFY(!second.find(QStringLiteral("other"), "s1", 60000)); // per server
    // Ended through the second: gone for the first, its mirror included.
    second.remove(SERVER, "s1");
    QVERIFY(!first.find(SERVER, "s1", 60000));
    QCOMPARE(firstLocal.size(), 0);
}

void TestRedisSessionStore::ttlLivesInRedis()
{
    LocalSessionStore local;
    RedisSessionStore store {local, settings()};
    QVERIFY(store.isUp());
    store.put(SERVER, "short", OWNER, 1000);
    // Use renews the TTL to what the caller says.
    QVERIFY(store.find(SERVER, "short", 600000));
    QString error;
    auto admin = Gateway::Shared::RedisConnection::open(settings().endpoint, {2000, 2000}, error);
    QVERIFY2(admin, qPrintable(error));
    const Gateway::Shared::ReplyPtr ttl = admin->command({"PTTL", "switchyard:mcp:files:short"});
    QVERIFY(ttl && ttl->integer > 1000 && ttl->integer <= 600000);
    // Expired in Redis (as after its TTL): unknown everywhere, even if the mirror still had it.
    QVERIFY(admin->command({"DEL", "switchyard:mcp:files:short"}));
    QVERIFY(!store.find(SERVER, "short", 600000));
}

void TestRedisSessionStore::outageServesTheMirrorAndReconnects()
{
    LocalSessionStore local;
    RedisSessionStore store {local, settings()};
    QVERIFY(store.isUp());
    store.put(SERVER, "before", OWNER, 60000);
    m_redis->kill();
    // The first command fails (one timeout at most), the store goes down and serves locally.
    QCOMPARE(store.find(SERVER, "before", 60000), std::optional<SessionOwner> {OWNER});
    QVERIFY(!store.isUp());
    QVERIFY(store.errors() >= 1);
    store.put(SERVER, "during", OWNER, 60000);
    QVERIFY(store.find(SERVER, "during", 60000));
    // Back on the same port (empty: no persistence): the reconnect thread notices.
    QVERIFY2(m_redis->start(m_redis->port()), qPrintable(m_redis->error()));
    QTRY_VERIFY_WITH_TIMEOUT(store.isUp(), 20000);
    store.put(SERVER, "after", OWNER, 60000);
    LocalSessionStore otherLocal;
    RedisSessionStore other {otherLocal, settings()};
    QVERIFY(other.find(SERVER, "after", 60000));
    // Redis lost what it held: documented, a client re-initializes on the 404.
    QVERIFY(!other.find(SERVER, "before", 60000));
}

QTEST_GUILESS_MAIN(TestRedisSessionStore)
#include "testredissessionstore.moc"
