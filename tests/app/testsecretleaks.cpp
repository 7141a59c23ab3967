// No secret ever leaves the real executable: provider API keys, virtual keys, the
// admin token and a tracing collector's auth header get distinctive random values; the process serves successes, upstream
// errors, authentication failures and bad admin calls; then everything an operator or
// an attacker could read is searched for them: stdout and stderr, /metrics, the admin
// API's renderings, `switchyard export`, the SQLite files, and what the process prints
// when it crashes (SIGSEGV, SIGABRT).

#include "switchyardprocess.h"
#include "testhttpclient.h"

#include "sim/behaviour.h"
#include "sim/simulatedupstream.h"

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QRandomGenerator>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>

using Gateway::Sim::Behaviour;
using Gateway::Sim::Flavor;
using Gateway::Sim::SimulatedUpstream;
using TestSupport::SwitchyardProcess;
using TestSupport::TestHttpClient;

namespace {

const QString BINARY = QStringLiteral(SWITCHYARD_BINARY);

QByteArray randomSecret(const char *prefix)
{
    QByteArray random(18, Qt::Uninitialized);
    for (char &byte : random) {
        byte = static_cast<char>(QRandomGenerator::global()->bounded(256));
    }
    return prefix + random.toHex();
}

struct Secrets {
    QByteArray providerKey = randomSecret("sk-prov-good-");
    QByteArray rejectedProviderKey = randomSecret("sk-prov-rejected-");
    QByteArray virtualKey = randomSecret("sk-virt-");
    QByteArray adminToken = randomSecret("adm-");
    QByteArray collectorToken = randomSecret("otel-"); // tracing.headers (its collector is down)

    QList<QByteArray> all() const { return {providerKey, rejectedProviderKey, virtualKey, adminToken, collectorToken}; }
};

// The secret itself, or encodings a careless log line might use.
QByteArray findSecret(const QByteArray &haystack, const Secrets &secrets)
{
    for (const QByteArray &secret : secrets.all()) {
        for (const QByteArray &form : {secret, secret.toBase64(), secret.toPercentEncoding()}) {
            if (haystack.contains(form)) {
                return secret;
            }
        }
        // A long enough piece gives most of a secret away, e.g. in a "did you mean" hint.
        if (haystack.contains(secret.right(16))) {
            return secret;
        }
    }
    return {};
}

} // namespace

class TestSecretLeaks final : public QObject {
    Q_OBJECT

private slots:
    void init();
    void noSecretInOutputMetricsAdminExportOrStore();
    void noSecretInCrashOutput_data();
    void noSecretInCrashOutput();

private:
    QString writePolicy();
    quint16 start();
    void exercise(quint16 port);

    Secrets m_secrets;
    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<SimulatedUpstream> m_good;
    std::unique_ptr<SimulatedUpstream> m_rejecting;
    quint16 m_closedPort = 0;
    std::unique_ptr<SwitchyardProcess> m_process;
    QByteArray m_answers; // every response exercise() got, heads and bodies
};

void TestSecretLeaks::init()
{
    m_process.reset();
    m_answers.clear();
    m_secrets = Secrets {};
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
    m_good = std::make_unique<SimulatedUpstream>(QStringLiteral("good"), Flavor::OpenAi);
    QVERIFY(m_good->listen().hasValue());
    m_rejecting = std::make_unique<SimulatedUpstream>(QStringLiteral("rejecting"), Flavor::OpenAi);
    Behaviour rejecting;
    rejecting.rejectedKey = m_secrets.rejectedProviderKey; // answers 401 to it
    m_rejecting->setBehaviour(rejecting);
    QVERIFY(m_rejecting->listen().hasValue());
    // A port with nobody listening: connection refused upstream.
    QTcpServer probe;
    QVERIFY(probe.listen(QHostAddress::LocalHost));
    m_closedPort = probe.serverPort();
}

QString TestSecretLeaks::writePolicy()
{
    const QString path = m_dir->filePath(QStringLiteral("policy.yaml"));
    QFile file {path};
    file.open(QIODevice::WriteOnly);
    file.write("gateway:\n  listen: 127.0.0.1:0\n  threads: 1\n  admin_token: " + m_secrets.adminToken +
               "\nproviders:\n"
               "  - name: good\n    type: openai\n    base_url: " + m_good->baseUrl() +
               "\n    keys: [{name: main, secret: " + m_secrets.providerKey + "}]\n"
               "  - name: rejecting\n    type: openai\n    base_url: " + m_rejecting->baseUrl() +
               "\n    keys: [{name: main, secret: " + m_secrets.rejectedProviderKey + "}]\n"
               "  - name: down\n    type: openai\n    base_url: http://127.0.0.1:" + QByteArray::number(m_closedPort) +
               "/v1\n    keys: [{name: main, secret: " + m_secrets.providerKey + "}]\n"
               "routes:\n"
               "  - {model: chat, targets: [{provider: good, model: m}]}\n"
               "  - {model: rejected, targets: [{provider: rejecting, model: m}]}\n"
               "  - {model: down, targets: [{provider: down, model: m}]}\n"
               "virtual_keys:\n  - {name: alpha, key: " + m_secrets.virtualKey + "}\n"
               "tracing:\n  otlp_endpoint: http://127.0.0.1:" + QByteArray::number(m_closedPort) +
               "/v1/traces\n  export_interval_ms: 50\n  headers: {authorization: Bearer " + m_secrets.collectorToken + "}\n");
    return path;
}

quint16 TestSecretLeaks::start()
{
    const QString policy = writePolicy();
    m_process = std::make_unique<SwitchyardProcess>(BINARY);
    m_process->start(m_dir->filePath(QStringLiteral("data")), {QStringLiteral("--config"), policy});
    return m_process->waitUntilListening();
}

// Successes, upstream failures, authentication failures and bad admin calls.
void TestSecretLeaks::exercise(quint16 port)
{
    const auto send = [this, port](const QByteArray &method, const QByteArray &path, const QByteArray &body,
                                   const TestHttpClient::HeaderList &headers) {
        TestHttpClient client {port};
        client.request(method, path, body, headers);
        const auto response = client.waitForResponses(1, 20000) ? client.responses().constFirst() : TestHttpClient::Response {};
        for (const auto &header : response.headers) {
            m_answers += header.name + ": " + header.value + '\n';
        }
        m_answers += response.body + '\n';
        return response;
    };
    const auto chat = [](const QByteArray &model, bool stream = false) -> QByteArray {
        return R"({"model":")" + model + R"(","max_tokens":3,)" + (stream ? R"("stream":true,)" : "") +
               R"("messages":[{"role":"user","content":"hi"}]})";
    };
    const TestHttpClient::HeaderList key {{"authorization", "Bearer " + m_secrets.virtualKey}};
    const TestHttpClient::HeaderList admin {{"authorization", "Bearer " + m_secrets.adminToken}};
    QByteArray wrongKey = m_secrets.virtualKey;
    wrongKey[wrongKey.size() - 1] = wrongKey.back() == '0' ? '1' : '0';

    QCOMPARE(send("POST", "/v1/chat/completions", chat("chat"), key).status, 200);
    QCOMPARE(send("POST", "/v1/chat/completions", chat("chat", true), key).status, 200);
    QCOMPARE(m_good->requestsWithKey(m_secrets.providerKey), 2); // the key really went upstream
    QVERIFY(send("POST", "/v1/chat/completions", chat("rejected"), key).status >= 400);
    QVERIFY(send("POST", "/v1/chat/completions", chat("down"), key).status >= 500);
    QCOMPARE(send("POST", "/v1/chat/completions", chat("chat"), {{"authorization", "Bearer " + wrongKey}}).status, 401);
    QCOMPARE(send("POST", "/v1/messages", chat("chat"), {{"x-api-key", wrongKey}}).status, 401);
    QCOMPARE(send("GET", "/admin/v1/policy", {}, {{"authorization", "Bearer " + wrongKey}}).status, 401);
    // An invalid policy that carries the secrets: the error must not echo them.
    const QByteArray invalid = "gateway: {admin_token: " + m_secrets.adminToken + ", threads: many}\nproviders:\n"
                               "  - {name: x, type: openai, base_url: nope, keys: [{secret: " + m_secrets.providerKey +
                               "}]}\nvirtual_keys:\n  - {name: v, key: " + m_secrets.virtualKey + ", routes: [nope]}\n";
    const auto refused = send("PUT", "/admin/v1/policy", invalid, admin);
    QCOMPARE(refused.status, 400);
    QVERIFY2(findSecret(refused.body, m_secrets).isEmpty(), refused.body.constData());
}

void TestSecretLeaks::noSecretInOutputMetricsAdminExportOrStore()
{
    const quint16 port = start();
    QVERIFY2(port != 0, m_process->standardError().constData());
    exercise(port);
    if (QTest::currentTestFailed()) {
        return;
    }
    const TestHttpClient::HeaderList admin {{"authorization", "Bearer " + m_secrets.adminToken}};
    QMap<QByteArray, QByteArray> readable; // where -> what it showed
    const auto get = [&](const QByteArray &path, const TestHttpClient::HeaderList &headers = {}) {
        TestHttpClient client {port};
        client.get(path, headers);
        QVERIFY2(client.waitForResponses(1, 20000), path.constData());
        QVERIFY2(client.responses().constFirst().status == 200, path.constData());
        readable.insert("GET " + path, client.responses().constFirst().body);
    };
    get("/metrics");
    get("/v1/models", {{"authorization", "Bearer " + m_secrets.virtualKey}});
    get("/admin/v1/policy", admin);
    get("/admin/v1/policy", {{"authorization", "Bearer " + m_secrets.adminToken}, {"accept", "application/yaml"}});
    get("/admin/v1/versions/1", admin);
    get("/admin/v1/keys", admin);
    get("/admin/v1/state", admin);
    get("/admin/v1/requests", admin);
    get("/admin/v1/events", admin);
    get("/admin/v1/audit", admin);
    QVERIFY(readable.value("GET /admin/v1/policy").contains("\"***\""));
    readable.insert("answers to clients", m_answers);

    QProcess exporter;
    exporter.start(BINARY, {QStringLiteral("--data-dir"), m_dir->filePath(QStringLiteral("data")), QStringLiteral("export")});
    QVERIFY(exporter.waitForFinished(60000));
    QCOMPARE(exporter.exitCode(), 0);
    const QByteArray exported = exporter.readAllStandardOutput();
    QVERIFY(exported.contains("\"***\""));
    readable.insert("switchyard export", exported + exporter.readAllStandardError());

    m_process->signal(SIGTERM);
    QVERIFY(m_process->waitForExit());
    readable.insert("stdout", m_process->standardOutput());
    readable.insert("stderr", m_process->standardError());
    QVERIFY(readable.value("stdout").contains("msg=\"listening\""));
    // Every file the store wrote: the database, its WAL, everything in the data
    // directory except the master key itself.
    const QDir data {m_dir->filePath(QStringLiteral("data"))};
    for (const QString &name : data.entryList(QDir::Files)) {
        if (name == u"secret.key") {
            continue;
        }
        QFile file {data.filePath(name)};
        QVERIFY(file.open(QIODevice::ReadOnly));
        readable.insert("file " + name.toUtf8(), file.readAll());
    }
    QVERIFY(readable.contains("file switchyard.db"));

    for (auto it = readable.cbegin(); it != readable.cend(); ++it) {
        const QByteArray found = findSecret(it.value(), m_secrets);
        QVERIFY2(found.isEmpty(), qPrintable(QStringLiteral("%1 shows the secret %2").arg(QString::fromUtf8(it.key()),
                                                                                             QString::fromUtf8(found.left(8) + "..."))));
    }
}

void TestSecretLeaks::noSecretInCrashOutput_data()
{
    QTest::addColumn<int>("signalNumber");
    QTest::newRow("SIGSEGV") << int(SIGSEGV);
    QTest::newRow("SIGABRT") << int(SIGABRT);
}

void TestSecretLeaks::noSecretInCrashOutput()
{
    QFETCH(int, signalNumber);
    const quint16 port = start();
    QVERIFY(port != 0);
    exercise(port);
    m_process->signal(signalNumber);
    QVERIFY(m_process->waitForExit());
    // Under AddressSanitizer a SIGSEGV is reported (with a stack trace: exactly the crash
    // output to search) and ends in exit code 1 rather than a crash exit.
    QVERIFY(m_process->exitStatus() == QProcess::CrashExit || m_process->exitCode() != 0);
    const QByteArray printed = m_process->standardOutput() + m_process->standardError();
    const QByteArray found = findSecret(printed, m_secrets);
    QVERIFY2(found.isEmpty(), qPrintable(QStringLiteral("the crash output shows %1...").arg(QString::fromUtf8(found.left(8)))));
}

QTEST_GUILESS_MAIN(TestSecretLeaks)
#include "testsecretleaks.moc"
