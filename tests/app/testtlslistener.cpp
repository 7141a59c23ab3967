// TLS on the listener of the real executable (gateway.tls_cert_file / tls_key_file): a
// certificate made for the test with the openssl command, Qt's QSslSocket as a real TLS
// client trusting only that certificate. Plain and streamed requests and the admin API
// work over TLS; a plaintext client is refused with a clear answer; a client that does
// not trust the certificate fails its handshake without disturbing the gateway.

#include "switchyardprocess.h"
#include "testhttpclient.h"

#include "sim/simulatedupstream.h"

#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QSslCertificate>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>

using Gateway::Sim::Flavor;
using Gateway::Sim::SimulatedUpstream;
using TestSupport::SwitchyardProcess;
using TestSupport::TestHttpClient;

namespace {

const QString BINARY = QStringLiteral(SWITCHYARD_BINARY);
const QByteArray ADMIN_TOKEN = "adm-tls-test-token-9d2c1a";
const QByteArray CHAT = R"({"model":"chat","max_tokens":5,"messages":[{"role":"user","content":"hi"}]})";
const QByteArray STREAM = R"({"model":"chat","max_tokens":5,"stream":true,"messages":[{"role":"user","content":"hi"}]})";

} // namespace

class TestTlsListener final : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void init();
    void servesPlainStreamedAndAdminRequestsOverTls();
    void plaintextClientIsRefusedClearly();
    void untrustedClientFailsItsHandshakeOnly();
    void missingCertificateStopsStartUp();

private:
    quint16 start(const QByteArray &listen, const QString &certFile);
    TestHttpClient::Endpoint tlsEndpoint(quint16 port) const;

    QTemporaryDir m_certDir;
    QString m_certFile;
    QString m_keyFile;
    QSslCertificate m_certificate;
    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<SimulatedUpstream> m_sim;
    std::unique_ptr<SwitchyardProcess> m_process;
};

void TestTlsListener::initTestCase()
{
    QVERIFY(m_certDir.isValid());
    m_certFile = m_certDir.filePath(QStringLiteral("cert.pem"));
    m_keyFile = m_certDir.filePath(QStringLiteral("key.pem"));
    QProcess openssl;
    openssl.start(QStringLiteral("openssl"),
                  {QStringLiteral("req"), QStringLiteral("-x509"), QStringLiteral("-newkey"), QStringLiteral("ec"),
                   QStringLiteral("-pkeyopt"), QStringLiteral("ec_paramgen_curve:prime256v1"), QStringLiteral("-nodes"),
                   QStringLiteral("-keyout"), m_keyFile, QStringLiteral("-out"), m_certFile, QStringLiteral("-days"),
                   QStringLiteral("2"), QStringLiteral("-subj"), QStringLiteral("/CN=127.0.0.1"), QStringLiteral("-addext"),
                   QStringLiteral("subjectAltName=IP:127.0.0.1")});
    QVERIFY2(openssl.waitForStarted(10000), "the openssl command is needed (Debian package openssl)");
    QVERIFY(openssl.waitForFinished(30000));
    QVERIFY2(openssl.exitCode() == 0, openssl.readAllStandardError().constData());
    const auto certificates = QSslCertificate::fromPath(m_certFile);
    QCOMPARE(certificates.size(), 1);
    m_certificate = certificates.constFirst();
}

void TestTlsListener::init()
{
    m_process.reset();
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
    m_sim = std::make_unique<SimulatedUpstream>(QStringLiteral("sim"), Flavor::OpenAi);
    QVERIFY(m_sim->listen().hasValue());
}

quint16 TestTlsListener::start(const QByteArray &listen, const QString &certFile)
{
    const QString path = m_dir->filePath(QStringLiteral("policy.yaml"));
    QFile file {path};
    if (!file.open(QIODevice::WriteOnly)) {
        return 0;
    }
    file.write("gateway:\n  listen: " + listen + "\n  threads: 1\n  admin_token: " + ADMIN_TOKEN +
               "\n  tls_cert_file: " + certFile.toUtf8() + "\n  tls_key_file: " + m_keyFile.toUtf8() +
               "\nproviders:\n  - {name: sim, type: vllm, base_url: " + m_sim->baseUrl() +
               "}\nroutes:\n  - model: chat\n    targets: [{provider: sim, model: m}]\n");
    file.close();
    m_process = std::make_unique<SwitchyardProcess>(BINARY);
    m_process->start(m_dir->filePath(QStringLiteral("data")), {QStringLiteral("--config"), path});
    return m_process->waitUntilListening();
}

TestHttpClient::Endpoint TestTlsListener::tlsEndpoint(quint16 port) const
{
    TestHttpClient::Endpoint endpoint {port};
    endpoint.tls = true;
    endpoint.trustedCertificates = {m_certificate};
    return endpoint;
}

void TestTlsListener::servesPlainStreamedAndAdminRequestsOverTls()
{
    // On every interface, but with TLS: no clear-text warning.
    const quint16 port = start("0.0.0.0:0", m_certFile);
    QVERIFY2(port != 0, m_process->standardError().constData());
    QVERIFY(m_process->standardOutput().contains("url=https://"));
    QVERIFY(!m_process->standardOutput().contains("without TLS"));

    // Two requests on one keep-alive TLS connection, then a stream.
    TestHttpClient client {tlsEndpoint(port)};
    client.post("/v1/chat/completions", CHAT);
    client.post("/v1/chat/completions", CHAT);
    QVERIFY2(client.waitForResponses(2, 20000), qPrintable(client.tlsError()));
    for (const auto &response : client.responses()) {
        QCOMPARE(response.status, 200);
        QVERIFY(QJsonDocument::fromJson(response.body).object().contains(u"choices"_qs));
    }
    client.post("/v1/chat/completions", STREAM);
    QVERIFY(client.waitForResponses(3, 20000));
    const auto streamed = client.responses().constLast();
    QCOMPARE(streamed.status, 200);
    QVERIFY(streamed.header("content-type").startsWith("text/event-stream"));
    const auto events = streamed.sseDataLines();
    QVERIFY(events.size() >= 2);
    QCOMPARE(events.constLast(), QByteArray("[DONE]"));
    QVERIFY(client.tlsError().isEmpty());

    TestHttpClient admin {tlsEndpoint(port)};
    admin.get("/admin/v1/policy", {{"authorization", "Bearer " + ADMIN_TOKEN}});
    QVERIFY(admin.waitForResponses(1, 20000));
    QCOMPARE(admin.responses().constFirst().status, 200);
    QVERIFY(admin.responses().constFirst().body.contains("tls_cert_file"));
}

void TestTlsListener::plaintextClientIsRefusedClearly()
{
    const quint16 port = start("127.0.0.1:0", m_certFile);
    QVERIFY(port != 0);
    TestHttpClient plain {port};
    plain.post("/v1/chat/completions", CHAT);
    QVERIFY(plain.waitForResponses(1, 20000));
    const auto refused = plain.responses().constFirst();
    QCOMPARE(refused.status, 400);
    QCOMPARE(QJsonDocument::fromJson(refused.body).object()[u"error"_qs].toObject()[u"code"_qs].toString(),
             QStringLiteral("tls_required"));
    QVERIFY(plain.waitForDisconnected(10000));

    // The gateway is unharmed.
    TestHttpClient client {tlsEndpoint(port)};
    client.post("/v1/chat/completions", CHAT);
    QVERIFY(client.waitForResponses(1, 20000));
    QCOMPARE(client.responses().constFirst().status, 200);
}

void TestTlsListener::untrustedClientFailsItsHandshakeOnly()
{
    const quint16 port = start("127.0.0.1:0", m_certFile);
    QVERIFY(port != 0);
    TestHttpClient::Endpoint untrusting {port};
    untrusting.tls = true; // trusts nothing
    TestHttpClient refused {untrusting};
    refused.post("/v1/chat/completions", CHAT);
    QTRY_VERIFY_WITH_TIMEOUT(!refused.tlsError().isEmpty(), 20000);
    QVERIFY(refused.responses().isEmpty());

    TestHttpClient client {tlsEndpoint(port)};
    client.post("/v1/chat/completions", CHAT);
    QVERIFY(client.waitForResponses(1, 20000));
    QCOMPARE(client.responses().constFirst().status, 200);
    m_process->signal(SIGTERM);
    QVERIFY(m_process->waitForExit());
    QCOMPARE(m_process->exitCode(), 0);
}

void TestTlsListener::missingCertificateStopsStartUp()
{
    QCOMPARE(start("127.0.0.1:0", m_certDir.filePath(QStringLiteral("missing.pem"))), quint16 {0});
    QVERIFY(m_process->waitForExit());
    QVERIFY(m_process->exitCode() != 0);
    QVERIFY2(m_process->standardError().contains("gateway.tls_cert_file"), m_process->standardError().constData());
}

QTEST_GUILESS_MAIN(TestTlsListener)
#include "testtlslistener.moc"
