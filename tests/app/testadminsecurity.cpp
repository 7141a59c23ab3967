// Who can reach the admin API of the real executable: every admin endpoint needs the
// token; a peer that is not loopback is refused (403) unless gateway.admin_allow_remote
// says otherwise; a listener reachable from the network without TLS warns once at start.

#include "switchyardprocess.h"
#include "testhttpclient.h"

#include "sim/simulatedupstream.h"

#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkInterface>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>

using Gateway::Sim::Flavor;
using Gateway::Sim::SimulatedUpstream;
using TestSupport::SwitchyardProcess;
using TestSupport::TestHttpClient;

namespace {

const QString BINARY = QStringLiteral(SWITCHYARD_BINARY);
const QByteArray ADMIN_TOKEN = "adm-security-test-token-0b7e4d";
const QByteArray WARNING = "listening beyond loopback without TLS";

QByteArray policyYaml(const QByteArray &listen, const QByteArray &upstreamUrl, bool allowRemote)
{
    return "gateway:\n  listen: " + listen + "\n  threads: 1\n  admin_token: " + ADMIN_TOKEN +
           "\n  admin_allow_remote: " + (allowRemote ? "true" : "false") +
           "\nproviders:\n  - {name: sim, type: vllm, base_url: " + upstreamUrl + "}\n" +
           "routes:\n  - model: chat\n    targets: [{provider: sim, model: m}]\n";
}

// A non-loopback IPv4 address of this machine, or a null address when it has none.
QHostAddress hostAddress()
{
    for (const QHostAddress &address : QNetworkInterface::allAddresses()) {
        if (address.protocol() == QAbstractSocket::IPv4Protocol && !address.isLoopback() && !address.isLinkLocal()) {
            return address;
        }
    }
    return {};
}

TestHttpClient::Response call(const TestHttpClient::Endpoint &endpoint, const QByteArray &method, const QByteArray &path,
                              const QByteArray &body, const TestHttpClient::HeaderList &headers)
{
    TestHttpClient client {endpoint};
    client.request(method, path, body, headers);
    if (!client.waitForResponses(1, 20000)) {
        return {};
    }
    return client.responses().constFirst();
}

QByteArray errorCode(const TestHttpClient::Response &response)
{
    return QJsonDocument::fromJson(response.body).object()[u"error"_qs].toObject()[u"code"_qs].toString().toUtf8();
}

} // namespace

class TestAdminSecurity final : public QObject {
    Q_OBJECT

private slots:
    void init();

    void everyAdminEndpointRequiresTheToken_data();
    void everyAdminEndpointRequiresTheToken();
    void remotePeersAreRefusedUnlessAllowed();
    void loopbackListenerDoesNotWarn();

private:
    quint16 start(const QByteArray &listen, bool allowRemote);

    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<SimulatedUpstream> m_sim;
    std::unique_ptr<SwitchyardProcess> m_process;
};

void TestAdminSecurity::init()
{
    m_process.reset();
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
    m_sim = std::make_unique<SimulatedUpstream>(QStringLiteral("sim"), Flavor::OpenAi);
    QVERIFY(m_sim->listen().hasValue());
}

quint16 TestAdminSecurity::start(const QByteArray &listen, bool allowRemote)
{
    const QString path = m_dir->filePath(QStringLiteral("policy.yaml"));
    QFile file {path};
    if (!file.open(QIODevice::WriteOnly)) {
        return 0;
    }
    file.write(policyYaml(listen, m_sim->baseUrl(), allowRemote));
    file.close();
    m_process = std::make_unique<SwitchyardProcess>(BINARY);
    m_process->start(m_dir->filePath(QStringLiteral("data")), {QStringLiteral("--config"), path});
    const quint16 port = m_process->waitUntilListening();
    if (port == 0) {
        qWarning().noquote() << m_process->standardOutput() << m_process->standardError();
    }
    return port;
}

void TestAdminSecurity::everyAdminEndpointRequiresTheToken_data()
{
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<QByteArray>("path");
    QTest::addColumn<QByteArray>("body");
    // Every endpoint of docs/ADMIN_API.md, plus an unknown one: nothing about the API,
    // not even which paths exist, is revealed without the token.
    QTest::newRow("GET policy") << QByteArray("GET") << QByteArray("/admin/v1/policy") << QByteArray();
    QTest::newRow("PUT policy") << QByteArray("PUT") << QByteArray("/admin/v1/policy") << QByteArray("{}");
    QTest::newRow("PUT policy dry run") << QByteArray("PUT") << QByteArray("/admin/v1/policy?dry_run=1") << QByteArray("{}");
    QTest::newRow("GET versions") << QByteArray("GET") << QByteArray("/admin/v1/versions") << QByteArray();
    QTest::newRow("GET version") << QByteArray("GET") << QByteArray("/admin/v1/versions/1") << QByteArray();
    QTest::newRow("GET diff") << QByteArray("GET") << QByteArray("/admin/v1/versions/diff?from=1&to=1") << QByteArray();
    QTest::newRow("POST rollback") << QByteArray("POST") << QByteArray("/admin/v1/versions/1/rollback") << QByteArray();
    QTest::newRow("POST keys") << QByteArray("POST") << QByteArray("/admin/v1/keys") << QByteArray(R"({"name":"x"})");
    QTest::newRow("GET keys") << QByteArray("GET") << QByteArray("/admin/v1/keys") << QByteArray();
    QTest::newRow("DELETE key") << QByteArray("DELETE") << QByteArray("/admin/v1/keys/x") << QByteArray();
    QTest::newRow("GET state") << QByteArray("GET") << QByteArray("/admin/v1/state") << QByteArray();
    QTest::newRow("POST explain") << QByteArray("POST") << QByteArray("/admin/v1/explain?endpoint=chat")
                                  << QByteArray(R"({"model":"chat","messages":[]})");
    QTest::newRow("GET requests") << QByteArray("GET") << QByteArray("/admin/v1/requests") << QByteArray();
    QTest::newRow("GET events") << QByteArray("GET") << QByteArray("/admin/v1/events") << QByteArray();
    QTest::newRow("GET audit") << QByteArray("GET") << QByteArray("/admin/v1/audit") << QByteArray();
    QTest::newRow("GET audit verify") << QByteArray("GET") << QByteArray("/admin/v1/audit/verify") << QByteArray();
    QTest::newRow("GET spend") << QByteArray("GET") << QByteArray("/admin/v1/spend?group_by=key") << QByteArray();
    QTest::newRow("unknown path") << QByteArray("GET") << QByteArray("/admin/v1/no-such-endpoint") << QByteArray();
}

void TestAdminSecurity::everyAdminEndpointRequiresTheToken()
{
    QFETCH(QByteArray, method);
    QFETCH(QByteArray, path);
    QFETCH(QByteArray, body);
    const quint16 port = start("127.0.0.1:0", false);
    QVERIFY(port != 0);
    const TestHttpClient::Endpoint endpoint {port};

    const auto missing = call(endpoint, method, path, body, {});
    QCOMPARE(missing.status, 401);
    QCOMPARE(errorCode(missing), QByteArray("missing_admin_token"));
    QVERIFY(!missing.header("www-authenticate").isEmpty());

    // Wrong tokens: another token, the right one with a byte changed, a prefix, the
    // right one in the wrong scheme.
    QByteArray flipped = ADMIN_TOKEN;
    flipped[flipped.size() - 1] = flipped.back() == 'a' ? 'b' : 'a';
    const QList<QByteArray> wrongAuthorizations {QByteArray("Bearer not-the-token"), QByteArray("Bearer " + flipped),
                                                 QByteArray("Bearer " + ADMIN_TOKEN.first(ADMIN_TOKEN.size() - 1))};
    for (const QByteArray &authorization : wrongAuthorizations) {
        const auto wrong = call(endpoint, method, path, body, {{"authorization", authorization}});
        QVERIFY2(wrong.status == 401, authorization.constData());
        QCOMPARE(errorCode(wrong), QByteArray("invalid_admin_token"));
    }
    const auto basic = call(endpoint, method, path, body, {{"authorization", "Basic " + ADMIN_TOKEN.toBase64()}});
    QCOMPARE(basic.status, 401);

    // With the token the endpoint answers (whatever its own verdict on the body).
    const auto authorised = call(endpoint, method, path, body, {{"authorization", "Bearer " + ADMIN_TOKEN}});
    QVERIFY2(authorised.status != 0 && authorised.status != 401 && authorised.status != 403, authorised.body.constData());
}

void TestAdminSecurity::remotePeersAreRefusedUnlessAllowed()
{
    const QHostAddress host = hostAddress();
    if (host.isNull()) {
        QSKIP("this machine has no non-loopback IPv4 address to connect from; the remote-peer check needs one");
    }
    const quint16 port = start("0.0.0.0:0", false);
    QVERIFY(port != 0);
    const TestHttpClient::HeaderList authorised {{"authorization", "Bearer " + ADMIN_TOKEN}};
    const TestHttpClient::Endpoint remote {port, host};
    const TestHttpClient::Endpoint local {port};

    // The warning: once, at start, naming the fix.
    const QByteArray output = m_process->standardOutput();
    QCOMPARE(output.count(WARNING), 1);
    QVERIFY(output.contains("level=warn"));
    QVERIFY(output.contains("gateway.tls_cert_file"));

    // The data plane is open to the network; the admin API is not, even with the token.
    QCOMPARE(call(remote, "GET", "/healthz", {}, {}).status, 200);
    const auto refused = call(remote, "GET", "/admin/v1/policy", {}, authorised);
    QCOMPARE(refused.status, 403);
    QCOMPARE(errorCode(refused), QByteArray("admin_remote_forbidden"));
    QVERIFY(refused.header("content-type").startsWith("application/json"));
    QVERIFY(refused.body.contains("gateway.admin_allow_remote"));
    // Refused before the token is looked at: a remote peer learns nothing about it.
    QCOMPARE(call(remote, "GET", "/admin/v1/policy", {}, {}).status, 403);
    QCOMPARE(call(local, "GET", "/admin/v1/policy", {}, authorised).status, 200);

    // Allowing remote peers applies live, and the token is still required.
    const auto applied = call(local, "PUT", "/admin/v1/policy", policyYaml("0.0.0.0:0", m_sim->baseUrl(), true),
                              {{"authorization", "Bearer " + ADMIN_TOKEN}, {"content-type", "application/yaml"}});
    QVERIFY2(applied.status == 200, applied.body.constData());
    QTRY_COMPARE_WITH_TIMEOUT(call(remote, "GET", "/admin/v1/policy", {}, authorised).status, 200, 10000);
    QCOMPARE(call(remote, "GET", "/admin/v1/policy", {}, {}).status, 401);
    QCOMPARE(m_process->standardOutput().count(WARNING), 1);
}

void TestAdminSecurity::loopbackListenerDoesNotWarn()
{
    const quint16 port = start("127.0.0.1:0", false);
    QVERIFY(port != 0);
    QCOMPARE(call(TestHttpClient::Endpoint {port}, "GET", "/healthz", {}, {}).status, 200);
    QVERIFY(!m_process->standardOutput().contains(WARNING));
    QVERIFY(!m_process->standardError().contains(WARNING));
}

QTEST_GUILESS_MAIN(TestAdminSecurity)
#include "testadminsecurity.moc"
