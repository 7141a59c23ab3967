// Redaction of what is logged and stored: requests and upstream answers carrying an API
// key, an e-mail address, a card number and an operator's custom pattern leave none of
// them in the request log, the events table, the admin API's answers or the process's
// log lines; the redaction markers are there instead.

#include "logwriter.h"
#include "policyservice.h"
#include "sim/simulatedupstream.h"
#include "testhttpclient.h"

#include "config/policyloader.h"
#include "database.h"
#include "runtime/gatewayruntime.h"
#include "safety/redactorslot.h"

#include <QDeadlineTimer>
#include <QFile>
#include <QJsonDocument>
#include <QMutex>
#include <QSqlQuery>
#include <QSqlRecord>
#include <QStringList>
#include <QTemporaryDir>
#include <QTest>

#include <memory>
#include <mutex>

using Gateway::Sim::Flavor;
using Gateway::Sim::SimulatedUpstream;
using TestSupport::TestHttpClient;

namespace {

const QByteArray ADMIN_TOKEN = QByteArrayLiteral("admin-token-for-tests-0002");
const QByteArray API_KEY = QByteArrayLiteral("sk-proj-AbCdEfGhIjKlMnOpQrStUv123456");
const QByteArray EMAIL = QByteArrayLiteral("jane.doe@example.com");
const QByteArray CARD = QByteArrayLiteral("4111 1111 1111 1111");
const QByteArray EMPLOYEE = QByteArrayLiteral("EMP-204863");
const QList<QByteArray> SECRETS {API_KEY, EMAIL, CARD, EMPLOYEE, QByteArrayLiteral("4111111111111111")};

// Lines the process logged while the test ran, as the handler after the filter saw them.
QMutex capturedMutex;
QStringList captured;

void captureLine(QtMsgType, const QMessageLogContext &, const QString &message)
{
    const QMutexLocker lock {&capturedMutex};
    captured.push_back(message);
}

QByteArray secretsText()
{
    return "key " + API_KEY + " mail " + EMAIL + " card " + CARD + " id " + EMPLOYEE;
}

} // namespace

class TestRedaction final : public QObject {
    Q_OBJECT

private slots:
    void init();
    void cleanup();

    void storedRowsEventsAndAnswersCarryNoSecret();
    void processLogLinesAreRedacted();

private:
    TestHttpClient::Response send(const QByteArray &method, const QByteArray &path, const QByteArray &body,
                                  const TestHttpClient::HeaderList &headers = {});
    QByteArray databaseText(const QString &sql);

    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<SimulatedUpstream> m_upstream;
    std::unique_ptr<Storage::LogWriter> m_log;
    std::unique_ptr<Storage::PolicyService> m_store;
    std::unique_ptr<Gateway::GatewayRuntime> m_gateway;
    std::mutex m_runningMutex;
    Gateway::GatewayRuntime *m_running = nullptr;
};

void TestRedaction::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
    m_upstream = std::make_unique<SimulatedUpstream>(QStringLiteral("upstream"), Flavor::OpenAi);
    QVERIFY(m_upstream->listen().hasValue());
    Storage::LogWriter::Options logOptions;
    logOptions.databasePath = Storage::Database::defaultPath(m_dir->path());
    auto log = Storage::LogWriter::start(logOptions);
    QVERIFY2(log.hasValue(), log.hasValue() ? "" : qPrintable(log.error()));
    m_log = std::move(log).value();
    Storage::PolicyService::Options options;
    options.dataDirectory = m_dir->path();
    options.log = m_log.get();
    options.apply = [this](const Gateway::Config::Policy &policy) {
        const std::lock_guard lock {m_runningMutex};
        if (m_running) {
            m_running->applyPolicy(policy);
        }
    };
    auto store = Storage::PolicyService::start(options);
    QVERIFY2(store.hasValue(), store.hasValue() ? "" : qPrintable(store.error()));
    m_store = std::move(store).value();
    const QByteArray yaml = R"(gateway:
  admin_token: )" + ADMIN_TOKEN + R"(
routing:
  health: {consecutive_failures: 2}
redaction:
  custom: [{name: employee_id, regex: 'EMP-[0-9]{6}'}]
providers:
  - {name: upstream, type: vllm, base_url: )" + m_upstream->baseUrl() + R"(}
routes:
  - model: chat
    targets: [{provider: upstream, model: m}]
)";
    const auto noEnvironment = [](const QString &) -> std::optional<QByteArray> { return std::nullopt; };
    auto policy = Gateway::Config::parsePolicy(yaml, QStringLiteral("test"), noEnvironment);
    QVERIFY2(policy.hasValue(), policy.hasValue() ? "" : qPrintable(policy.error().toString()));
    auto boot = m_store->bootstrap(policy.value(), QStringLiteral("test"));
    QVERIFY2(boot.hasValue(), boot.hasValue() ? "" : qPrintable(boot.error()));
    Gateway::Config::Policy running = *boot->policy;
    running.gateway.listenHost = QStringLiteral("127.0.0.1");
    running.gateway.listenPort = 0;
    running.gateway.threads = 1;
    m_gateway = std::make_unique<Gateway::GatewayRuntime>(running);
    m_gateway->setRequestLog(m_log.get());
    m_gateway->setAdminService(m_store.get());
    QVERIFY(m_gateway->start().hasValue());
    const std::lock_guard lock {m_runningMutex};
    m_running = m_gateway.get();
}

void TestRedaction::cleanup()
{
    {
        const std::lock_guard lock {m_runningMutex};
        m_running = nullptr;
    }
    m_gateway.reset();
    m_store.reset();
    m_log.reset();
    m_upstream.reset();
    m_dir.reset();
}

TestHttpClient::Response TestRedaction::send(const QByteArray &method, const QByteArray &path, const QByteArray &body,
                                             const TestHttpClient::HeaderList &headers)
{
    TestHttpClient http {m_gateway->port()};
    http.request(method, path, body, headers);
    return http.waitForResponses(1, 20000) ? http.responses().constFirst() : TestHttpClient::Response {};
}

QByteArray TestRedaction::databaseText(const QString &sql)
{
    auto db = Storage::Database::open(Storage::Database::defaultPath(m_dir->path()));
    if (!db) {
        return {};
    }
    QSqlQuery query {db.value()->connection()};
    QByteArray text;
    if (query.exec(sql)) {
        while (query.next()) {
            for (int i = 0; i < query.record().count(); ++i) {
                text += query.value(i).toString().toUtf8() + '\t';
            }
            text += '\n';
        }
    }
    return text;
}

void TestRedaction::storedRowsEventsAndAnswersCarryNoSecret()
{
    // 1. A model name (stored as the row's route) carrying every secret.
    const QByteArray model = "x " + secretsText();
    const QByteArray unknown = "{\"model\":\"" + model + "\",\"messages\":[{\"role\":\"user\",\"content\":\"" + secretsText() + "\"}]," +
                               "\"user\":\"" + EMAIL + "\"}";
    QCOMPARE(send("POST", "/v1/chat/completions", unknown).status, 404);
    // 2. An upstream that quotes the secrets back in its errors: the failure reasons end
    // up in the health events when the circuit opens.
    Gateway::Sim::Behaviour failing;
    failing.errorRate = 1.0;
    failing.errorStatus = 500;
    failing.errorMessage = "cannot serve: " + secretsText();
    m_upstream->setBehaviour(failing);
    const QByteArray prompt = "{\"model\":\"chat\",\"messages\":[{\"role\":\"user\",\"content\":\"" + secretsText() +
                              "\"}],\"user\":\"" + EMAIL + "\",\"max_tokens\":4}";
    // The snapshot rebuild that records health events runs when a request is planned
    // 100 ms or more after the last one: keep asking until the event is there.
    const QDeadlineTimer deadline {30000};
    QByteArray events;
    while (!deadline.hasExpired()) {
        send("POST", "/v1/chat/completions", prompt);
        m_log->flush();
        events = databaseText(QStringLiteral("SELECT kind, subject, detail FROM events WHERE kind = 'health'"));
        if (events.contains("consecutive failures")) {
            break;
        }
        QTest::qWait(150); // lets the snapshot age past its 100 ms rebuild interval
    }
    QVERIFY2(events.contains("consecutive failures"), events.constData());
    m_log->flush();

    const QByteArray rows = databaseText(QStringLiteral("SELECT * FROM request_log"));
    const QByteArray allEvents = databaseText(QStringLiteral("SELECT * FROM events"));
    const QByteArray answers = send("GET", "/admin/v1/requests?limit=1000", {}, {{"authorization", "Bearer " + ADMIN_TOKEN}}).body +
                               send("GET", "/admin/v1/events?limit=1000", {}, {{"authorization", "Bearer " + ADMIN_TOKEN}}).body;
    for (const QByteArray &secret : SECRETS) {
        QVERIFY2(!rows.contains(secret), rows.constData());
        QVERIFY2(!allEvents.contains(secret), allEvents.constData());
        QVERIFY2(!answers.contains(secret), answers.constData());
    }
    // The markers show what was there.
    for (const char *marker : {"[REDACTED:api_keys]", "[REDACTED:emails]", "[REDACTED:card_numbers]", "[REDACTED:employee_id]"}) {
        QVERIFY2(rows.contains(marker), marker);
        QVERIFY2(allEvents.contains(marker), marker);
        QVERIFY2(answers.contains(marker), marker);
    }
    // The event detail is still a JSON document.
    const QByteArray detail = databaseText(QStringLiteral("SELECT detail FROM events WHERE kind = 'health' LIMIT 1")).trimmed();
    QVERIFY2(QJsonDocument::fromJson(detail.chopped(detail.endsWith('\t') ? 1 : 0)).isObject(), detail.constData());
    // Nothing in the database file at all (free pages and WAL included) holds them.
    m_log.reset();
    for (const QString &suffix : {QString(), QStringLiteral("-wal")}) {
        QFile file {Storage::Database::defaultPath(m_dir->path()) + suffix};
        if (file.open(QIODevice::ReadOnly)) {
            const QByteArray bytes = file.readAll();
            for (const QByteArray &secret : SECRETS) {
                QVERIFY2(!bytes.contains(secret), qPrintable(suffix + QString::fromUtf8(secret)));
            }
        }
    }
}

void TestRedaction::processLogLinesAreRedacted()
{
    {
        const QMutexLocker lock {&capturedMutex};
        captured.clear();
    }
    const QtMessageHandler original = qInstallMessageHandler(&captureLine);
    {
        const Gateway::Safety::LogLineRedaction filter {m_gateway->logRedaction()};
        qWarning("upstream said: %s", secretsText().constData());
        qInfo() << "client field" << QString::fromUtf8(secretsText());
    }
    qInstallMessageHandler(original);
    const QMutexLocker lock {&capturedMutex};
    QCOMPARE(captured.size(), 2);
    for (const QString &line : captured) {
        for (const QByteArray &secret : SECRETS) {
            QVERIFY2(!line.contains(QString::fromUtf8(secret)), qPrintable(line));
        }
        QVERIFY2(line.contains(QStringLiteral("[REDACTED:employee_id]")), qPrintable(line));
        QVERIFY2(line.contains(QStringLiteral("[REDACTED:card_numbers]")), qPrintable(line));
    }
}

QTEST_MAIN(TestRedaction)
#include "testredaction.moc"
