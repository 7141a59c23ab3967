// Two switchyard processes sharing one real redis-server enforce one limit: the tokens
// admitted under a key's tpm and the dollars admitted under a key's daily budget stay
// within 1% of the limit across both gateways (each alone would admit the full limit,
// so a gateway that did not share would show about twice as much). Then Redis is killed
// mid-traffic: both keep answering on local state, say so (event, metric, state), and
// when Redis is back on the same port its accounting includes everything both spent.

#include "loaddriver.h"
#include "redisserver.h"
#include "testhttpclient.h"

#include "shared/redisconnection.h"
#include "sim/simulatedupstream.h"

#include <QDateTime>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>

#include <hiredis/hiredis.h>

#include <csignal>

using Gateway::Sim::Flavor;
using Gateway::Sim::SimulatedUpstream;
using TestSupport::LoadDriver;
using TestSupport::RedisServer;
using TestSupport::TestHttpClient;

namespace {

const QString BINARY = QStringLiteral(SWITCHYARD_BINARY);
const QByteArray ADMIN_TOKEN = "shared-limits-admin-token-0001";
constexpr qint64 TPM = 3000;
constexpr double BUDGET_USD = 300; // $2 a request: 150 requests across the fleet

// One gateway process, headless, on its own data directory.
class GatewayProcess final {
public:
    bool start(const QString &config, const QString &dataDir, const QString &redisUrl)
    {
        QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
        environment.remove(QStringLiteral("DISPLAY"));
        environment.remove(QStringLiteral("WAYLAND_DISPLAY"));
        m_process.setProcessEnvironment(environment);
        m_process.setProcessChannelMode(QProcess::MergedChannels);
        m_process.start(BINARY, {QStringLiteral("--headless"), QStringLiteral("--config"), config,
                                 QStringLiteral("--data-dir"), dataDir, QStringLiteral("--redis"), redisUrl,
                                 // Generous: the test machine runs other suites meanwhile.
                                 QStringLiteral("--redis-timeout-ms"), QStringLiteral("1000")});
        QElapsedTimer timer;
        timer.start();
        while (!m_output.contains("msg=\"listening\"") && timer.elapsed() < 20000) {
            m_process.waitForReadyRead(1000);
            m_output += m_process.readAll();
        }
        const auto match =
            QRegularExpression(QStringLiteral(R"(url=http://127\.0\.0\.1:(\d+)/v1)")).match(QString::fromUtf8(m_output));
        m_port = match.hasMatch() ? static_cast<quint16>(match.captured(1).toUInt()) : 0;
        return m_port != 0;
    }
    bool stop()
    {
        ::kill(static_cast<pid_t>(m_process.processId()), SIGTERM);
        return m_process.waitForFinished(20000) && m_process.exitStatus() == QProcess::NormalExit &&
               m_process.exitCode() == 0;
    }
    bool running() const { return m_process.state() == QProcess::Running; }
    quint16 port() const { return m_port; }
    QByteArray output()
    {
        m_output += m_process.readAll();
        return m_output;
    }

private:
    QProcess m_process;
    QByteArray m_output;
    quint16 m_port = 0;
};

QByteArray get(quint16 port, const QByteArray &path, bool admin)
{
    TestHttpClient client {port};
    TestHttpClient::HeaderList headers;
    if (admin) {
        headers.push_back({"authorization", "Bearer " + ADMIN_TOKEN});
    }
    client.get(path, headers);
    if (!client.waitForResponses(1, 10000)) {
        return {};
    }
    return client.responses().constFirst().body;
}

double metric(quint16 port, const QByteArray &line)
{
    for (const QByteArray &row : get(port, "/metrics", false).split('\n')) {
        if (row.startsWith(QByteArray(line + ' '))) {
            return row.mid(line.size() + 1).toDouble();
        }
    }
    return -1;
}

struct Tally {
    int admitted = 0;
    int refused = 0;
    int other = 0;
    qint64 tokens = 0; // usage.total_tokens of the admitted
    QByteArray firstOther;
};

Tally tally(const QList<TestHttpClient::Response> &responses)
{
    Tally out;
    for (const auto &response : responses) {
        if (response.status == 200) {
            ++out.admitted;
            const auto usage = QJsonDocument::fromJson(response.body).object()[u"usage"_qs].toObject();
            out.tokens += usage[u"total_tokens"_qs].toInteger();
        } else if (response.status == 429) {
            ++out.refused;
        } else {
            if (out.other++ == 0) {
                out.firstOther = QByteArray::number(response.status) + ' ' + response.body;
            }
        }
    }
    return out;
}

// Drives both gateways at once, each from its own thread with its own connections.
std::pair<Tally, Tally> driveBoth(quint16 portA, quint16 portB, const QByteArray &key, int perGateway)
{
    const auto drive = [key, perGateway](quint16 port, Tally &out) {
        LoadDriver driver {port, 4};
        const auto responses = driver.run(
            "/v1/chat/completions", perGateway,
            [key](int) {
                return LoadDriver::Request {
                    R"({"model":"chat","max_tokens":2,"messages":[{"role":"user","content":"Hi there"}]})",
                    {{"authorization", "Bearer " + key}}};
            },
            60000);
        out = tally(responses);
        if (responses.isEmpty()) {
            out.firstOther = "no answers within the deadline";
            out.other = perGateway;
        }
    };
    Tally a;
    Tally b;
    std::unique_ptr<QThread> threadA {QThread::create(drive, portA, std::ref(a))};
    std::unique_ptr<QThread> threadB {QThread::create(drive, portB, std::ref(b))};
    threadA->start();
    threadB->start();
    threadA->wait();
    threadB->wait();
    return {a, b};
}

} // namespace

class TestSharedLimits final : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanupTestCase();
    void oneTpmLimitAcrossTwoGateways();
    void oneBudgetAcrossTwoGateways();
    void redisKilledAndRestartedMidTraffic();

private:
    QTemporaryDir m_dir;
    std::unique_ptr<SimulatedUpstream> m_sim;
    RedisServer m_redis;
    GatewayProcess m_a;
    GatewayProcess m_b;
};

void TestSharedLimits::initTestCase()
{
    QVERIFY(m_dir.isValid());
    QVERIFY2(m_redis.start(), qPrintable(m_redis.error()));
    m_sim = std::make_unique<SimulatedUpstream>(QStringLiteral("sim"), Flavor::OpenAi);
    QVERIFY(m_sim->listen().hasValue());
    // $1 per completion token, prompts free: a request costs exactly $2, estimated and real.
    const QByteArray yaml = "gateway:\n  listen: 127.0.0.1:0\n  threads: 2\n  admin_token: " + ADMIN_TOKEN +
                            "\nproviders:\n  - {name: sim, type: vllm, base_url: " + m_sim->baseUrl() + "}\n" +
                            "routes:\n  - model: chat\n    targets: [{provider: sim, model: m}]\n"
                            "prices:\n  - {model: m, input_per_mtok: 0, output_per_mtok: 1000000}\n"
                            "virtual_keys:\n"
                            "  - {name: rate, key: key-rate-0001, limits: {tpm: " +
                            QByteArray::number(TPM) +
                            "}}\n"
                            "  - {name: spend, key: key-spend-0001, budgets: {usd_per_day: " +
                            QByteArray::number(BUDGET_USD) +
                            "}}\n"
                            "  - {name: outage, key: key-outage-0001, budgets: {usd_per_day: 100000}}\n";
    const QString config = m_dir.filePath(QStringLiteral("policy.yaml"));
    QFile file {config};
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(yaml);
    file.close();
    QVERIFY2(m_a.start(config, m_dir.filePath(QStringLiteral("a")), m_redis.url()), m_a.output().constData());
    QVERIFY2(m_b.start(config, m_dir.filePath(QStringLiteral("b")), m_redis.url()), m_b.output().constData());
    QCOMPARE(metric(m_a.port(), "switchyard_redis_up"), 1.0);
    QCOMPARE(metric(m_b.port(), "switchyard_redis_up"), 1.0);
}

void TestSharedLimits::cleanupTestCase()
{
    if (m_a.port()) {
        QVERIFY2(m_a.stop(), m_a.output().constData());
    }
    if (m_b.port()) {
        QVERIFY2(m_b.stop(), m_b.output().constData());
    }
    // Shared limits are announced at start.
    QVERIFY2(m_a.output().contains("limits shared through Redis"), m_a.output().constData());
}

void TestSharedLimits::oneTpmLimitAcrossTwoGateways()
{
    QElapsedTimer elapsed;
    elapsed.start();
    const auto [a, b] = driveBoth(m_a.port(), m_b.port(), "key-rate-0001", 600);
    const double seconds = static_cast<double>(elapsed.elapsed()) / 1000.0;
    QVERIFY2(a.other == 0 && b.other == 0, QByteArray(a.firstOther + " / " + b.firstOther).constData());
    QVERIFY(a.admitted > 0 && b.admitted > 0); // both gateways took part
    QVERIFY(a.refused + b.refused > 0);
    const qint64 admitted = a.tokens + b.tokens;
    // The bucket holds TPM and refills TPM per minute while the test runs.
    const double allowed = static_cast<double>(TPM) * (1.0 + seconds / 60.0);
    const QString report = QStringLiteral("admitted %1 tokens (%2 + %3) in %4 s; allowed %5")
                               .arg(admitted)
                               .arg(a.tokens)
                               .arg(b.tokens)
                               .arg(seconds)
                               .arg(allowed);
    qInfo().noquote() << report;
    QVERIFY2(static_cast<double>(admitted) <= allowed * 1.01, qPrintable(report));
    QVERIFY2(static_cast<double>(admitted) >= static_cast<double>(TPM) * 0.99, qPrintable(report));
}

void TestSharedLimits::oneBudgetAcrossTwoGateways()
{
    const auto [a, b] = driveBoth(m_a.port(), m_b.port(), "key-spend-0001", 200);
    QVERIFY2(a.other == 0 && b.other == 0, QByteArray(a.firstOther + " / " + b.firstOther).constData());
    QVERIFY(a.admitted > 0 && b.admitted > 0);
    const double spent = 2.0 * (a.admitted + b.admitted);
    const QString report =
        QStringLiteral("spent $%1 (%2 + %3 requests) of $%4").arg(spent).arg(a.admitted).arg(b.admitted).arg(BUDGET_USD);
    qInfo().noquote() << report;
    QVERIFY2(spent <= BUDGET_USD * 1.01 && spent >= BUDGET_USD * 0.99, qPrintable(report));
    QCOMPARE(a.refused + b.refused, 400 - (a.admitted + b.admitted));
}

void TestSharedLimits::redisKilledAndRestartedMidTraffic()
{
    const auto before = driveBoth(m_a.port(), m_b.port(), "key-outage-0001", 30);
    QCOMPARE(before.first.admitted + before.second.admitted, 60);

    m_redis.kill();
    const auto during = driveBoth(m_a.port(), m_b.port(), "key-outage-0001", 30);
    QVERIFY2(during.first.admitted == 30 && during.second.admitted == 30,
             QByteArray(during.first.firstOther + " / " + during.second.firstOther).constData());
    QVERIFY(m_a.running() && m_b.running());
    for (GatewayProcess *gateway : {&m_a, &m_b}) {
        QCOMPARE(metric(gateway->port(), "switchyard_redis_up"), 0.0);
        QVERIFY(metric(gateway->port(), "switchyard_redis_reservations_total{store=\"local\"}") >= 1);
        const auto state = QJsonDocument::fromJson(get(gateway->port(), "/admin/v1/state", true)).object();
        QCOMPARE(state[u"limit_store"_qs].toObject()[u"state"_qs].toString(), QStringLiteral("degraded"));
        // The event reaches the store's events table within its flush interval.
        QTRY_VERIFY_WITH_TIMEOUT(get(gateway->port(), "/admin/v1/events?kind=redis.down", true).contains("redis.down"),
                                 20000);
    }

    QVERIFY2(m_redis.start(m_redis.port()), qPrintable(m_redis.error()));
    QTRY_COMPARE_WITH_TIMEOUT(metric(m_a.port(), "switchyard_redis_up"), 1.0, 20000);
    QTRY_COMPARE_WITH_TIMEOUT(metric(m_b.port(), "switchyard_redis_up"), 1.0, 20000);
    for (GatewayProcess *gateway : {&m_a, &m_b}) {
        QTRY_VERIFY_WITH_TIMEOUT(get(gateway->port(), "/admin/v1/events?kind=redis.up", true).contains("redis.up"),
                                 20000);
    }

    // Redis came back empty; each gateway gave back its own spend of the day, so Redis
    // holds all 120 requests ($240), those before the kill included.
    Gateway::Shared::RedisEndpoint endpoint;
    endpoint.host = QStringLiteral("127.0.0.1");
    endpoint.port = m_redis.port();
    QString error;
    auto connection = Gateway::Shared::RedisConnection::open(endpoint, {2000, 2000}, error);
    QVERIFY2(connection, qPrintable(error));
    const QByteArray day = QByteArray::number(QDateTime::currentMSecsSinceEpoch() / 86'400'000);
    const auto reply = connection->command({"HGET", "switchyard:k:outage:d:" + day, "n"});
    QVERIFY(reply);
    const qint64 nanos = QByteArray(reply->str, static_cast<qsizetype>(reply->len)).toLongLong();
    QCOMPARE(nanos, 240LL * 1'000'000'000LL);

    // And the shared limits work again.
    const auto after = driveBoth(m_a.port(), m_b.port(), "key-outage-0001", 5);
    QCOMPARE(after.first.admitted + after.second.admitted, 10);
    QVERIFY(metric(m_a.port(), "switchyard_redis_reservations_total{store=\"redis\"}") >= 35);
}

QTEST_GUILESS_MAIN(TestSharedLimits)
#include "testsharedlimits.moc"
