// The Redis limit store against a real redis-server: the same decisions as the local
// store for every limit, one limit shared by two stores, soft-limit alerts once per window
// fleet-wide, scripts reloaded after a flush, and outages (Redis refusing, Redis killed
// and restarted empty): requests served on local state, the outage's usage pushed back.

#include "redisserver.h"

#include "governance/locallimitstore.h"
#include "governance/utcwindow.h"
#include "shared/redisconnection.h"
#include "shared/redislimitstore.h"

#include <QDateTime>
#include <QTest>

#include <hiredis/hiredis.h>

#include <mutex>

using namespace Gateway::Governance;
using Gateway::Shared::RedisConnection;
using Gateway::Shared::RedisLimitStore;
using Gateway::Shared::RedisTransition;
using TestSupport::RedisServer;

namespace {

constexpr qint64 USD = NANOS_PER_USD;

// One decision, as a 429 would show it.
struct Outcome {
    bool admitted = false;
    int kind = -1;
    bool team = false;
    QString subject;
    double limitValue = 0;
    qint64 resetAtMs = 0;
    int alerts = 0;
    bool operator==(const Outcome &) const = default;
};

QString describe(const std::vector<Outcome> &outcomes)
{
    QString text;
    for (const Outcome &o : outcomes) {
        text += o.admitted ? QStringLiteral("ok") : QStringLiteral("refused(%1,%2,%3,%4,%5)")
                                                            .arg(o.kind)
                                                            .arg(o.team ? u"team" : u"key")
                                                            .arg(o.subject)
                                                            .arg(o.limitValue)
                                                            .arg(o.resetAtMs);
        text += QStringLiteral("+a%1 ").arg(o.alerts);
    }
    return text;
}

// Twelve requests a second apart, 10 tokens / $1 estimated each; every third stays in
// flight to the end, the others settle at once at 12 tokens / $1.50.
std::vector<Outcome> runScenario(LimitStore &store, const Subject &subject, qint64 base)
{
    std::vector<Outcome> outcomes;
    std::vector<Reservation> held;
    for (int i = 0; i < 12; ++i) {
        const qint64 now = base + i * 1000;
        Reservation reservation;
        Refusal refusal;
        Outcome outcome;
        outcome.admitted = store.reserve(&subject, 10, USD, now, reservation, refusal);
        if (!outcome.admitted) {
            outcome.kind = static_cast<int>(refusal.kind);
            outcome.team = refusal.team;
            outcome.subject = refusal.subject;
            outcome.limitValue = refusal.limitValue;
            outcome.resetAtMs = refusal.resetAtMs;
        } else if (i % 3 == 0) {
            held.push_back(reservation);
        } else {
            SettleAlerts alerts;
            store.settle(reservation, 12, USD + USD / 2, now, alerts);
            outcome.alerts = alerts.count;
        }
        outcomes.push_back(outcome);
    }
    for (Reservation &reservation : held) {
        SettleAlerts alerts;
        store.settle(reservation, 10, USD, base + 20'000, alerts);
    }
    return outcomes;
}

Subject subjectWith(const QString &key, const QString &team, const AccountLimits &keyLimits,
                    const AccountLimits &teamLimits)
{
    Subject subject;
    subject.key = key;
    subject.team = team;
    subject.keyLimits = keyLimits;
    subject.teamLimits = teamLimits;
    return subject;
}

// Transitions as the store reports them, from whatever thread.
struct TransitionLog {
    std::mutex mutex;
    std::vector<RedisTransition> seen;
    RedisLimitStore::TransitionHandler handler()
    {
        return [this](const RedisTransition &transition) {
            const std::lock_guard lock {mutex};
            seen.push_back(transition);
        };
    }
    int count(bool up)
    {
        const std::lock_guard lock {mutex};
        return static_cast<int>(std::count_if(seen.begin(), seen.end(), [up](const auto &t) { return t.up == up; }));
    }
    RedisTransition last()
    {
        const std::lock_guard lock {mutex};
        return seen.empty() ? RedisTransition {} : seen.back();
    }
};

} // namespace

class TestRedisLimitStore final : public QObject {
    Q_OBJECT

private slots:
    void init();
    void cleanup();

    void sameDecisionsAsTheLocalStore_data();
    void sameDecisionsAsTheLocalStore();
    void twoStoresShareOneBudget();
    void softLimitAlertsOncePerWindowAcrossStores();
    void scriptsAreReloadedAfterAFlush();
    void refusingRedisServesLocallyAndPushesTheBacklog();
    void killedRedisComesBackEmptyAndGetsTheWholeSpend();

private:
    RedisLimitStore::Settings settings() const;
    std::unique_ptr<RedisConnection> admin();
    qint64 windowField(const QByteArray &account, bool day, const char *field, qint64 nowMs);

    std::unique_ptr<RedisServer> m_redis;
    qint64 m_base = 0;
};

void TestRedisLimitStore::init()
{
    m_redis = std::make_unique<RedisServer>();
    QVERIFY2(m_redis->start(), qPrintable(m_redis->error()));
    // Real time: the windows' keys expire at real UTC day and month ends.
    m_base = QDateTime::currentMSecsSinceEpoch();
}

void TestRedisLimitStore::cleanup()
{
    m_redis.reset();
}

RedisLimitStore::Settings TestRedisLimitStore::settings() const
{
    RedisLimitStore::Settings settings;
    settings.endpoint.host = QStringLiteral("127.0.0.1");
    settings.endpoint.port = m_redis->port();
    // Generous: the machine running the tests may be busy.
    settings.timeouts = {2000, 2000};
    settings.retryIntervalMs = 50;
    return settings;
}

std::unique_ptr<RedisConnection> TestRedisLimitStore::admin()
{
    QString error;
    auto connection = RedisConnection::open(settings().endpoint, {2000, 2000}, error);
    if (!connection) {
        qWarning() << error;
    }
    return connection;
}

qint64 TestRedisLimitStore::windowField(const QByteArray &account, bool day, const char *field, qint64 nowMs)
{
    auto connection = admin();
    if (!connection) {
        return -1;
    }
    const QByteArray key = "switchyard:" + account + (day ? ":d:" + QByteArray::number(utcDay(nowMs))
                                                          : ":m:" + QByteArray::number(utcMonth(nowMs)));
    const auto reply = connection->command({QByteArrayLiteral("HGET"), key, QByteArray(field)});
    if (!reply || reply->type != REDIS_REPLY_STRING) {
        return 0;
    }
    return QByteArray(reply->str, static_cast<qsizetype>(reply->len)).toLongLong();
}

void TestRedisLimitStore::sameDecisionsAsTheLocalStore_data()
{
    QTest::addColumn<AccountLimits>("keyLimits");
    QTest::addColumn<AccountLimits>("teamLimits");
    QTest::addColumn<int>("refusedKind");
    const auto rates = [](qint64 rpm, qint64 tpm, qint64 concurrent) {
        AccountLimits limits;
        limits.rates = {rpm, tpm, concurrent};
        return limits;
    };
    const auto budgets = [](double usdDay, double usdMonth, qint64 tokensDay, qint64 tokensMonth) {
        AccountLimits limits;
        limits.budgets.usdPerDay = usdDay;
        limits.budgets.usdPerMonth = usdMonth;
        limits.budgets.tokensPerDay = tokensDay;
        limits.budgets.tokensPerMonth = tokensMonth;
        return limits;
    };
    QTest::newRow("rpm") << rates(3, 0, 0) << AccountLimits {} << static_cast<int>(LimitKind::Rpm);
    QTest::newRow("tpm") << rates(0, 35, 0) << AccountLimits {} << static_cast<int>(LimitKind::Tpm);
    QTest::newRow("concurrency") << rates(0, 0, 2) << AccountLimits {} << static_cast<int>(LimitKind::Concurrency);
    QTest::newRow("usd_per_day") << budgets(5, 0, 0, 0) << AccountLimits {} << static_cast<int>(LimitKind::UsdPerDay);
    QTest::newRow("usd_per_month") << budgets(0, 4, 0, 0) << AccountLimits {} << static_cast<int>(LimitKind::UsdPerMonth);
    QTest::newRow("tokens_per_day") << budgets(0, 0, 50, 0) << AccountLimits {}
                                    << static_cast<int>(LimitKind::TokensPerDay);
    QTest::newRow("tokens_per_month") << budgets(0, 0, 0, 40) << AccountLimits {}
                                      << static_cast<int>(LimitKind::TokensPerMonth);
    QTest::newRow("team rpm") << AccountLimits {} << rates(4, 0, 0) << static_cast<int>(LimitKind::Rpm);
    QTest::newRow("team usd_per_day") << rates(100, 1000, 10) << budgets(6, 0, 0, 0)
                                      << static_cast<int>(LimitKind::UsdPerDay);
}

void TestRedisLimitStore::sameDecisionsAsTheLocalStore()
{
    QFETCH(AccountLimits, keyLimits);
    QFETCH(AccountLimits, teamLimits);
    QFETCH(int, refusedKind);
    const QString key = QStringLiteral("key-") + QString::fromLatin1(QTest::currentDataTag());
    const QString team = QStringLiteral("team-") + QString::fromLatin1(QTest::currentDataTag());

    LocalLimitStore reference;
    Subject referenceSubject = subjectWith(key, team, keyLimits, teamLimits);
    reference.bind(referenceSubject);
    const std::vector<Outcome> expected = runScenario(reference, referenceSubject, m_base);
    QVERIFY2(std::any_of(expected.begin(), expected.end(),
                         [refusedKind](const Outcome &o) { return !o.admitted && o.kind == refusedKind; }),
             qPrintable(describe(expected)));

    LocalLimitStore local;
    TransitionLog transitions;
    RedisLimitStore shared {local, settings(), transitions.handler()};
    QVERIFY(shared.isUp());
    Subject subject = subjectWith(key, team, keyLimits, teamLimits);
    shared.bind(subject);
    const std::vector<Outcome> actual = runScenario(shared, subject, m_base);
    QVERIFY2(actual == expected, qPrintable(QStringLiteral("redis: %1\nlocal: %2").arg(describe(actual), describe(expected))));
    QCOMPARE(shared.status().fallbackReservations, quint64 {0});
    QVERIFY(shared.status().sharedReservations > 0);
}

void TestRedisLimitStore::twoStoresShareOneBudget()
{
    AccountLimits limits;
    limits.budgets.tokensPerDay = 1000;
    LocalLimitStore localA;
    LocalLimitStore localB;
    RedisLimitStore a {localA, settings(), {}};
    RedisLimitStore b {localB, settings(), {}};
    Subject subjectA = subjectWith(QStringLiteral("shared-key"), {}, limits, {});
    Subject subjectB = subjectA;
    a.bind(subjectA);
    b.bind(subjectB);
    qint64 admittedTokens = 0;
    int refusals = 0;
    for (int i = 0; i < 300; ++i) {
        RedisLimitStore &store = i % 2 == 0 ? a : b;
        const Subject &subject = i % 2 == 0 ? subjectA : subjectB;
        Reservation reservation;
        Refusal refusal;
        if (!store.reserve(&subject, 7, 0, m_base, reservation, refusal)) {
            QCOMPARE(refusal.kind, LimitKind::TokensPerDay);
            ++refusals;
            continue;
        }
        SettleAlerts alerts;
        store.settle(reservation, 7, 0, m_base, alerts);
        admittedTokens += 7;
    }
    // One budget: 142 requests of 7 tokens fit in 1000, whichever store asked.
    QCOMPARE(admittedTokens, qint64 {994});
    QCOMPARE(refusals, 300 - 142);
    QCOMPARE(windowField("k:shared-key", true, "t", m_base), qint64 {994});
    QCOMPARE(windowField("k:shared-key", false, "t", m_base), qint64 {994});
}

void TestRedisLimitStore::softLimitAlertsOncePerWindowAcrossStores()
{
    AccountLimits limits;
    limits.budgets.usdPerDay = 10;
    limits.budgets.softFraction = 0.5;
    LocalLimitStore localA;
    LocalLimitStore localB;
    RedisLimitStore a {localA, settings(), {}};
    RedisLimitStore b {localB, settings(), {}};
    Subject subjectA = subjectWith(QStringLiteral("alerting"), {}, limits, {});
    Subject subjectB = subjectA;
    a.bind(subjectA);
    b.bind(subjectB);
    int alertsSeen = 0;
    double spentAtAlert = 0;
    for (int i = 0; i < 8; ++i) {
        RedisLimitStore &store = i % 2 == 0 ? a : b;
        const Subject &subject = i % 2 == 0 ? subjectA : subjectB;
        Reservation reservation;
        Refusal refusal;
        QVERIFY(store.reserve(&subject, 1, USD, m_base, reservation, refusal));
        SettleAlerts alerts;
        store.settle(reservation, 1, USD, m_base, alerts);
        for (int j = 0; j < alerts.count; ++j) {
            QCOMPARE(alerts.alerts[static_cast<std::size_t>(j)].kind, LimitKind::UsdPerDay);
            spentAtAlert = alerts.alerts[static_cast<std::size_t>(j)].spent;
            ++alertsSeen;
        }
    }
    QCOMPARE(alertsSeen, 1);
    QCOMPARE(spentAtAlert, 5.0); // the settlement that reached half of $10
}

void TestRedisLimitStore::scriptsAreReloadedAfterAFlush()
{
    LocalLimitStore local;
    RedisLimitStore store {local, settings(), {}};
    AccountLimits limits;
    limits.rates.rpm = 100;
    Subject subject = subjectWith(QStringLiteral("flushed"), {}, limits, {});
    store.bind(subject);
    Reservation reservation;
    Refusal refusal;
    QVERIFY(store.reserve(&subject, 1, 0, m_base, reservation, refusal));
    auto connection = admin();
    QVERIFY(connection);
    QVERIFY(connection->command({QByteArrayLiteral("SCRIPT"), QByteArrayLiteral("FLUSH")}));
    Reservation second;
    QVERIFY(store.reserve(&subject, 1, 0, m_base, second, refusal));
    QVERIFY(second.shared);
    SettleAlerts alerts;
    store.settle(reservation, 1, 0, m_base, alerts);
    store.settle(second, 1, 0, m_base, alerts);
    QVERIFY(store.isUp());
    QCOMPARE(store.status().fallbackReservations, quint64 {0});
}

void TestRedisLimitStore::refusingRedisServesLocallyAndPushesTheBacklog()
{
    LocalLimitStore local;
    TransitionLog transitions;
    RedisLimitStore store {local, settings(), transitions.handler()};
    QCOMPARE(transitions.count(true), 1); // connected at construction
    AccountLimits limits;
    limits.budgets.usdPerDay = 1000;
    limits.rates.maxConcurrent = 5;
    Subject subject = subjectWith(QStringLiteral("outage"), QStringLiteral("ops"), limits, {});
    store.bind(subject);

    Reservation before;
    Refusal refusal;
    QVERIFY(store.reserve(&subject, 10, 2 * USD, m_base, before, refusal));
    QVERIFY(before.shared);
    Reservation inFlight; // reserved in Redis, settled during the outage
    QVERIFY(store.reserve(&subject, 10, 2 * USD, m_base, inFlight, refusal));
    SettleAlerts alerts;
    store.settle(before, 11, 3 * USD, m_base, alerts);
    QCOMPARE(windowField("k:outage", true, "n", m_base), 3 * USD);

    // Redis stays up but refuses this gateway: a password appears and its connections go.
    auto connection = admin();
    QVERIFY(connection);
    QVERIFY(connection->command({"CONFIG", "SET", "requirepass", "now-locked"}));
    QVERIFY(connection->command({"CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"}));

    Reservation during;
    QVERIFY(store.reserve(&subject, 10, 2 * USD, m_base + 1000, during, refusal)); // finds out, serves locally
    QVERIFY(!during.shared);
    QVERIFY(!store.isUp());
    QCOMPARE(transitions.count(false), 1);
    QVERIFY(!transitions.last().error.isEmpty());
    QVERIFY(store.status().fallbackReservations >= 1);
    Reservation late; // reserved locally, settled after Redis is back: goes straight there
    QVERIFY(store.reserve(&subject, 10, 2 * USD, m_base + 1000, late, refusal));
    QVERIFY(!late.shared);
    store.settle(during, 12, 4 * USD, m_base + 1000, alerts);
    store.settle(inFlight, 13, 5 * USD, m_base + 1000, alerts);
    QVERIFY(store.status().backlogEntries >= 1);

    QVERIFY(connection->command({"AUTH", "now-locked"}));
    QVERIFY(connection->command({"CONFIG", "SET", "requirepass", ""}));
    QTRY_VERIFY_WITH_TIMEOUT(store.isUp(), 20000);
    QCOMPARE(transitions.count(true), 2);
    QVERIFY(transitions.last().pushedEntries >= 1);
    QCOMPARE(transitions.last().resyncedAccounts, 0); // Redis kept its data: the backlog is enough
    // Nothing lost: $3 before, $4 + $5 settled during the outage; the in-flight one released.
    QCOMPARE(windowField("k:outage", true, "n", m_base), 12 * USD);
    QCOMPARE(windowField("t:ops", true, "n", m_base), 12 * USD);
    QCOMPARE(windowField("k:outage", true, "t", m_base), qint64 {11 + 12 + 13});
    store.settle(late, 14, 6 * USD, m_base + 1500, alerts);
    QCOMPARE(windowField("k:outage", true, "n", m_base), 18 * USD);
    QCOMPARE(windowField("k:outage", false, "t", m_base), qint64 {11 + 12 + 13 + 14});
    const auto held = admin()->command({"HMGET", "switchyard:k:outage", "inflight", "rn"});
    QVERIFY(held && held->type == REDIS_REPLY_ARRAY && held->elements == 2);
    QCOMPARE(QByteArray(held->element[0]->str), QByteArray("0"));
    QCOMPARE(QByteArray(held->element[1]->str), QByteArray("0"));
    QCOMPARE(store.status().backlogEntries, quint64 {0});
    QCOMPARE(store.status().reconnects, quint64 {1});

    Reservation after;
    QVERIFY(store.reserve(&subject, 10, 2 * USD, m_base + 2000, after, refusal));
    QVERIFY(after.shared);
    store.settle(after, 10, 2 * USD, m_base + 2000, alerts);
}

void TestRedisLimitStore::killedRedisComesBackEmptyAndGetsTheWholeSpend()
{
    LocalLimitStore local;
    TransitionLog transitions;
    RedisLimitStore store {local, settings(), transitions.handler()};
    AccountLimits limits;
    limits.budgets.tokensPerDay = 100'000;
    Subject subject = subjectWith(QStringLiteral("crashy"), {}, limits, {});
    store.bind(subject);
    SettleAlerts alerts;
    Refusal refusal;
    for (int i = 0; i < 5; ++i) {
        Reservation reservation;
        QVERIFY(store.reserve(&subject, 10, USD, m_base, reservation, refusal));
        QVERIFY(reservation.shared);
        store.settle(reservation, 10, USD, m_base, alerts);
    }
    QCOMPARE(windowField("k:crashy", true, "t", m_base), qint64 {50});

    m_redis->kill();
    for (int i = 0; i < 3; ++i) {
        Reservation reservation;
        QVERIFY(store.reserve(&subject, 10, USD, m_base, reservation, refusal)); // never fails the request
        store.settle(reservation, 10, USD, m_base, alerts);
    }
    QVERIFY(!store.isUp());
    QCOMPARE(store.status().fallbackReservations, quint64 {3});

    QVERIFY2(m_redis->start(), qPrintable(m_redis->error())); // same port, no data
    QTRY_VERIFY_WITH_TIMEOUT(store.isUp(), 20000);
    QCOMPARE(transitions.last().resyncedAccounts, 1);
    // All eight requests of this gateway: the five Redis forgot and the outage's three.
    QCOMPARE(windowField("k:crashy", true, "t", m_base), qint64 {80});
    QCOMPARE(windowField("k:crashy", false, "n", m_base), 8 * USD);
}

QTEST_GUILESS_MAIN(TestRedisLimitStore)
#include "testredislimitstore.moc"
