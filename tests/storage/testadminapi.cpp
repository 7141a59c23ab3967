// The admin API end to end: a gateway with its policy store, over real sockets.

#include "gatewayfixture.h"
#include "logwriter.h"
#include "policyservice.h"
#include "sim/simulatedupstream.h"
#include "spendjournalwriter.h"
#include "testhttpclient.h"

#include "config/policyloader.h"
#include "database.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>

#include <memory>
#include <mutex>

using Gateway::Sim::Flavor;
using Gateway::Sim::SimulatedUpstream;
using TestSupport::TestHttpClient;

namespace {

const QByteArray ADMIN_TOKEN = QByteArrayLiteral("admin-token-for-tests-0001");
const QByteArray PROVIDER_SECRET = QByteArrayLiteral("sk-live-provider-secret-987");

QJsonObject json(const QByteArray &text)
{
    return QJsonDocument::fromJson(text).object();
}

} // namespace

class TestAdminApi final : public QObject {
    Q_OBJECT

private slots:
    void init();
    void cleanup();

    void requiresTheAdminToken();
    void policyRoundTripsWithRedactedSecrets();
    void putAppliesLiveAndCreatesAVersion();
    void invalidPolicyNamesTheField();
    void discoveryRoundTripsAndNamesItsErrors();
    void dryRunValidatesWithoutApplying();
    void diffAndRollback();
    void virtualKeysAreShownOnceAndEnforced();
    void requestLogAndEventsArePaginated();
    void stateReportsRoutesAndTargets();
    void failoverIsRecordedAsAnEvent();
    void secretsNeverReachTheDatabaseFile();
    void applyUnderLoadLosesNoRequest();
    void auditLogIsPaginatedAndVerified();
    void auditVerifyReportsAnEditedRow();
    void spendIsQueryableByRouteAndDay();

private:
    TestHttpClient::Response admin(const QByteArray &method, const QByteArray &path, const QByteArray &body = {},
                                   const QByteArray &token = ADMIN_TOKEN);
    TestHttpClient::Response chat(const QByteArray &model, const QByteArray &key = {});
    QByteArray policyYaml(const QByteArray &secondTargetWeight = "1", const QByteArray &extraRoute = {}) const;

    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<SimulatedUpstream> m_a;
    std::unique_ptr<SimulatedUpstream> m_b;
    std::unique_ptr<Storage::LogWriter> m_log;
    std::unique_ptr<Storage::SpendJournalWriter> m_journal;
    std::unique_ptr<Storage::PolicyService> m_store;
    std::unique_ptr<Gateway::GatewayRuntime> m_gateway;
    std::mutex m_runningMutex;
    Gateway::GatewayRuntime *m_running = nullptr;
};

QByteArray TestAdminApi::policyYaml(const QByteArray &secondTargetWeight, const QByteArray &extraRoute) const
{
    return R"(gateway:
  admin_token: )" + ADMIN_TOKEN + R"(
providers:
  - name: a
    type: vllm
    base_url: )" + m_a->baseUrl() + R"(
    keys: [{name: k1, secret: )" + PROVIDER_SECRET + R"(}]
  - name: b
    type: sglang
    base_url: )" + m_b->baseUrl() + R"(
routes:
  - model: chat
    targets: [{provider: a, model: ma, weight: 1}, {provider: b, model: mb, weight: )" + secondTargetWeight + R"(}]
)" + extraRoute;
}

void TestAdminApi::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
    m_a = std::make_unique<SimulatedUpstream>(QStringLiteral("a"), Flavor::OpenAi);
    m_b = std::make_unique<SimulatedUpstream>(QStringLiteral("b"), Flavor::OpenAi);
    QVERIFY(m_a->listen().hasValue());
    QVERIFY(m_b->listen().hasValue());

    Storage::LogWriter::Options logOptions;
    logOptions.databasePath = Storage::Database::defaultPath(m_dir->path());
    auto log = Storage::LogWriter::start(logOptions);
    QVERIFY2(log.hasValue(), log.hasValue() ? "" : qPrintable(log.error()));
    m_log = std::move(log).value();
    Storage::SpendJournalWriter::Options journalOptions;
    journalOptions.databasePath = logOptions.databasePath;
    auto journal = Storage::SpendJournalWriter::start(journalOptions);
    QVERIFY2(journal.hasValue(), journal.hasValue() ? "" : qPrintable(journal.error()));
    m_journal = std::move(journal->writer);
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

    const auto noEnvironment = [](const QString &) -> std::optional<QByteArray> { return std::nullopt; };
    auto policy = Gateway::Config::parsePolicy(policyYaml(), QStringLiteral("test"), noEnvironment);
    QVERIFY(policy.hasValue());
    auto boot = m_store->bootstrap(policy.value(), QStringLiteral("test"));
    QVERIFY2(boot.hasValue(), boot.hasValue() ? "" : qPrintable(boot.error()));
    QVERIFY(boot->imported);
    Gateway::Config::Policy running = *boot->policy;
    running.gateway.listenHost = QStringLiteral("127.0.0.1");
    running.gateway.listenPort = 0;
    running.gateway.threads = 2;
    m_gateway = std::make_unique<Gateway::GatewayRuntime>(running);
    m_gateway->setRequestLog(m_log.get());
    m_gateway->setAdminService(m_store.get());
    m_gateway->setSpendJournal(m_journal.get());
    QVERIFY(m_gateway->start().hasValue());
    const std::lock_guard lock {m_runningMutex};
    m_running = m_gateway.get();
}

void TestAdminApi::cleanup()
{
    {
        const std::lock_guard lock {m_runningMutex};
        m_running = nullptr;
    }
    m_gateway.reset();
    m_store.reset();
    m_journal.reset();
    m_log.reset();
    m_a.reset();
    m_b.reset();
    m_dir.reset();
}

TestHttpClient::Response TestAdminApi::admin(const QByteArray &method, const QByteArray &path, const QByteArray &body,
                                             const QByteArray &token)
{
    TestHttpClient http {m_gateway->port()};
    TestHttpClient::HeaderList headers;
    if (!token.isEmpty()) {
        headers.push_back({"authorization", "Bearer " + token});
    }
    http.request(method, path, body, headers);
    return http.waitForResponses(1) ? http.responses().constFirst() : TestHttpClient::Response {};
}

TestHttpClient::Response TestAdminApi::chat(const QByteArray &model, const QByteArray &key)
{
    TestHttpClient http {m_gateway->port()};
    TestHttpClient::HeaderList headers;
    if (!key.isEmpty()) {
        headers.push_back({"authorization", "Bearer " + key});
    }
    http.post("/v1/chat/completions",
              "{\"model\":\"" + model + "\",\"max_tokens\":2,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", headers);
    return http.waitForResponses(1) ? http.responses().constFirst() : TestHttpClient::Response {};
}

void TestAdminApi::requiresTheAdminToken()
{
    const auto none = admin("GET", "/admin/v1/policy", {}, {});
    QCOMPARE(none.status, 401);
    QCOMPARE(json(none.body)[u"error"_qs].toObject()[u"code"_qs].toString(), QStringLiteral("missing_admin_token"));
    QVERIFY(!none.header("www-authenticate").isEmpty());
    const auto wrong = admin("GET", "/admin/v1/policy", {}, "admin-token-for-tests-0002");
    QCOMPARE(wrong.status, 401);
    QCOMPARE(json(wrong.body)[u"error"_qs].toObject()[u"code"_qs].toString(), QStringLiteral("invalid_admin_token"));
    QCOMPARE(admin("GET", "/admin/v1/policy").status, 200);
    QCOMPARE(admin("GET", "/admin/v1/nothing").status, 404);
    QCOMPARE(admin("DELETE", "/admin/v1/policy").status, 405);
}

void TestAdminApi::policyRoundTripsWithRedactedSecrets()
{
    const auto got = admin("GET", "/admin/v1/policy");
    QCOMPARE(got.status, 200);
    QVERIFY(!got.body.contains(PROVIDER_SECRET));
    QVERIFY(!got.body.contains(ADMIN_TOKEN));
    QVERIFY(got.body.contains("\"***\""));
    // The document from GET goes back unchanged: nothing new is stored.
    const auto put = admin("PUT", "/admin/v1/policy", got.body);
    QCOMPARE(put.status, 200);
    QCOMPARE(json(put.body)[u"created"_qs].toBool(), false);
    QCOMPARE(json(put.body)[u"version"_qs].toInt(), 1);
    // The YAML form too.
    TestHttpClient http {m_gateway->port()};
    http.get("/admin/v1/policy", {{"authorization", "Bearer " + ADMIN_TOKEN}, {"accept", "application/yaml"}});
    QVERIFY(http.waitForResponses(1));
    const QByteArray yaml = http.responses().constFirst().body;
    QVERIFY(yaml.contains("secret: \"***\""));
    QCOMPARE(json(admin("PUT", "/admin/v1/policy", yaml).body)[u"created"_qs].toBool(), false);
    // The stored secret is still the one used upstream.
    QCOMPARE(chat("chat").status, 200);
}

void TestAdminApi::putAppliesLiveAndCreatesAVersion()
{
    QCOMPARE(chat("fresh").status, 404);
    const QByteArray extra = "  - model: fresh\n    targets: [{provider: b, model: mb}]\n";
    const auto put = admin("PUT", "/admin/v1/policy?comment=add%20fresh", policyYaml("1", extra));
    QCOMPARE(put.status, 200);
    QCOMPARE(json(put.body)[u"created"_qs].toBool(), true);
    QCOMPARE(json(put.body)[u"version"_qs].toInt(), 2);
    const auto response = chat("fresh");
    QCOMPARE(response.status, 200);
    QCOMPARE(response.header("x-switchyard-backend"), QByteArray("b/mb"));
    const QJsonArray versions = json(admin("GET", "/admin/v1/versions").body)[u"data"_qs].toArray();
    QCOMPARE(versions.size(), 2);
    QCOMPARE(versions.at(0).toObject()[u"comment"_qs].toString(), QStringLiteral("add fresh"));
    QCOMPARE(versions.at(0).toObject()[u"active"_qs].toBool(), true);
}

void TestAdminApi::invalidPolicyNamesTheField()
{
    const auto put = admin("PUT", "/admin/v1/policy", policyYaml("0"));
    QCOMPARE(put.status, 400);
    const QJsonObject error = json(put.body)[u"error"_qs].toObject();
    QCOMPARE(error[u"param"_qs].toString(), QStringLiteral("routes[0].targets[1].weight"));
    QVERIFY(error[u"message"_qs].toString().contains(u"greater than 0"));
    const auto cycle = admin("PUT", "/admin/v1/policy",
                             policyYaml("1", "    fallbacks: [other]\n  - model: other\n    targets: [{provider: a, model: x}]\n"
                                             "    fallbacks: [chat]\n"));
    QCOMPARE(cycle.status, 400);
    QVERIFY(json(cycle.body)[u"error"_qs].toObject()[u"message"_qs].toString().contains(u"cycle"));
    QCOMPARE(json(admin("GET", "/admin/v1/versions").body)[u"data"_qs].toArray().size(), 1);
}

void TestAdminApi::discoveryRoundTripsAndNamesItsErrors()
{
    // A third provider whose servers come from DNS (docs/DISCOVERY.md); nothing answers on
    // the nameserver, so it just stays without servers.
    const auto withDiscovery = [this](const QByteArray &discovery) {
        QByteArray yaml = policyYaml();
        yaml.replace("routes:\n", QByteArray("  - {name: c, type: vllm, base_url: \"http://vllm-c.test:8000/v1\", "
                                              "discovery: " + discovery + "}\nroutes:\n"));
        return yaml;
    };
    const auto bad = admin("PUT", "/admin/v1/policy", withDiscovery("{type: mdns}"));
    QCOMPARE(bad.status, 400);
    QCOMPARE(json(bad.body)[u"error"_qs].toObject()[u"param"_qs].toString(), QStringLiteral("providers[2].discovery.type"));
    const auto noName = admin("PUT", "/admin/v1/policy", withDiscovery("{type: srv}"));
    QCOMPARE(noName.status, 400);
    QCOMPARE(json(noName.body)[u"error"_qs].toObject()[u"param"_qs].toString(), QStringLiteral("providers[2].discovery.name"));

    const auto put = admin("PUT", "/admin/v1/policy",
                           withDiscovery("{type: srv, name: _http._tcp.vllm-c.test, interval_ms: 1000, "
                                         "nameserver: \"127.0.0.1:9\"}"));
    QCOMPARE(put.status, 200);
    TestHttpClient http {m_gateway->port()};
    http.get("/admin/v1/policy", {{"authorization", "Bearer " + ADMIN_TOKEN}, {"accept", "application/yaml"}});
    QVERIFY(http.waitForResponses(1));
    const QByteArray yaml = http.responses().constFirst().body;
    QVERIFY2(yaml.contains("discovery: {type: srv, name: _http._tcp.vllm-c.test, interval_ms: 1000, slow_start_ms: 30000, "
                           "drain_ms: 30000, nameserver: \"127.0.0.1:9\"}"),
             yaml.constData());
    // The document read back is the one stored: nothing new is created.
    QCOMPARE(json(admin("PUT", "/admin/v1/policy", yaml).body)[u"created"_qs].toBool(), false);
    QCOMPARE(chat("chat").status, 200);
}

void TestAdminApi::dryRunValidatesWithoutApplying()
{
    const QByteArray extra = "  - model: fresh\n    targets: [{provider: b, model: mb}]\n";
    const auto dry = admin("PUT", "/admin/v1/policy?dry_run=1", policyYaml("1", extra));
    QCOMPARE(dry.status, 200);
    QCOMPARE(json(dry.body)[u"valid"_qs].toBool(), true);
    QCOMPARE(json(dry.body)[u"changed"_qs].toBool(), true);
    QCOMPARE(chat("fresh").status, 404);
    QCOMPARE(json(admin("GET", "/admin/v1/versions").body)[u"data"_qs].toArray().size(), 1);
}

void TestAdminApi::diffAndRollback()
{
    const QByteArray extra = "  - model: fresh\n    targets: [{provider: b, model: mb}]\n";
    QCOMPARE(admin("PUT", "/admin/v1/policy", policyYaml("1", extra)).status, 200);
    const auto diff = admin("GET", "/admin/v1/versions/diff?from=1&to=2");
    QCOMPARE(diff.status, 200);
    const QString text = json(diff.body)[u"diff"_qs].toString();
    QVERIFY2(text.contains(u"+  - model: fresh"), qPrintable(text));
    QVERIFY(text.startsWith(u"--- version 1\n+++ version 2\n"));
    QVERIFY(!text.contains(QString::fromUtf8(PROVIDER_SECRET)));
    QCOMPARE(chat("fresh").status, 200);

    const auto rollback = admin("POST", "/admin/v1/versions/1/rollback");
    QCOMPARE(rollback.status, 200);
    QCOMPARE(chat("fresh").status, 404);
    QCOMPARE(admin("POST", "/admin/v1/versions/99/rollback").status, 404);
    const auto version = admin("GET", "/admin/v1/versions/1");
    QCOMPARE(json(version.body)[u"active"_qs].toBool(), true);
    QVERIFY(json(version.body)[u"document"_qs].toObject().contains(u"routes"_qs));
}

void TestAdminApi::virtualKeysAreShownOnceAndEnforced()
{
    QCOMPARE(chat("chat").status, 200); // no keys yet: open on loopback
    const auto created = admin("POST", "/admin/v1/keys", R"({"name":"team-a","routes":["chat"]})");
    QCOMPARE(created.status, 201);
    const QByteArray key = json(created.body)[u"key"_qs].toString().toUtf8();
    QVERIFY(key.startsWith("sk-sy-"));
    QCOMPARE(admin("POST", "/admin/v1/keys", R"({"name":"team-a"})").status, 409);
    QCOMPARE(admin("POST", "/admin/v1/keys", R"({"name":"x","routes":["nope"]})").status, 400);

    QCOMPARE(chat("chat").status, 401);
    QCOMPARE(chat("chat", key).status, 200);
    const auto listed = admin("GET", "/admin/v1/keys");
    QVERIFY(!listed.body.contains(key));
    QCOMPARE(json(listed.body)[u"data"_qs].toArray().first().toObject()[u"key"_qs].toString(), QStringLiteral("***"));
    // The store keeps only a digest.
    QFile database {Storage::Database::defaultPath(m_dir->path())};
    QVERIFY(database.open(QIODevice::ReadOnly));
    QVERIFY(!database.readAll().contains(key));

    QCOMPARE(admin("DELETE", "/admin/v1/keys/team-a").status, 200);
    QCOMPARE(admin("DELETE", "/admin/v1/keys/team-a").status, 404);
    QCOMPARE(chat("chat", key).status, 200); // no keys left: open again
}

void TestAdminApi::requestLogAndEventsArePaginated()
{
    for (int i = 0; i < 5; ++i) {
        QCOMPARE(chat("chat").status, 200);
    }
    QCOMPARE(chat("missing").status, 404);
    m_log->flush();
    const auto page = admin("GET", "/admin/v1/requests?limit=4");
    QCOMPARE(page.status, 200);
    const QJsonObject first = json(page.body);
    QCOMPARE(first[u"data"_qs].toArray().size(), 4);
    QCOMPARE(first[u"data"_qs].toArray().first().toObject()[u"status"_qs].toInt(), 404);
    QCOMPARE(first[u"data"_qs].toArray().first().toObject()[u"route"_qs].toString(), QStringLiteral("missing"));
    const QByteArray cursor = QByteArray::number(first[u"next_cursor"_qs].toInteger());
    const QJsonArray second = json(admin("GET", "/admin/v1/requests?limit=4&cursor=" + cursor).body)[u"data"_qs].toArray();
    QCOMPARE(second.size(), 2);
    QCOMPARE(second.first().toObject()[u"route"_qs].toString(), QStringLiteral("chat"));
    QVERIFY(second.first().toObject()[u"tokens_out"_qs].toInt() == 2);
    const QJsonArray only404 = json(admin("GET", "/admin/v1/requests?status=404").body)[u"data"_qs].toArray();
    QCOMPARE(only404.size(), 1);
    QCOMPARE(admin("GET", "/admin/v1/requests?limit=x").status, 400);

    const QJsonArray events = json(admin("GET", "/admin/v1/events?kind=policy_applied").body)[u"data"_qs].toArray();
    QVERIFY(!events.isEmpty());
}

void TestAdminApi::stateReportsRoutesAndTargets()
{
    QCOMPARE(chat("chat").status, 200);
    const QJsonObject state = json(admin("GET", "/admin/v1/state").body);
    const QJsonObject route = state[u"routes"_qs].toArray().first().toObject();
    QCOMPARE(route[u"model"_qs].toString(), QStringLiteral("chat"));
    const QJsonArray targets = route[u"targets"_qs].toArray();
    QCOMPARE(targets.size(), 2);
    QCOMPARE(targets.at(0).toObject()[u"health"_qs].toString(), QStringLiteral("healthy"));
    QCOMPARE(targets.at(0).toObject()[u"share"_qs].toDouble(), 0.5);
}

void TestAdminApi::failoverIsRecordedAsAnEvent()
{
    const QByteArray extra = "  - model: solo\n    targets: [{provider: a, model: ma}]\n    fallbacks: [spare]\n"
                             "  - model: spare\n    targets: [{provider: b, model: mb}]\n";
    QCOMPARE(admin("PUT", "/admin/v1/policy", policyYaml("1", extra)).status, 200);
    Gateway::Sim::Behaviour failing;
    failing.failNextRequests = 1;
    m_a->setBehaviour(failing);
    const auto response = chat("solo");
    QCOMPARE(response.status, 200);
    QCOMPARE(response.header("x-switchyard-backend"), QByteArray("b/mb"));
    m_log->flush();
    const QJsonArray events = json(admin("GET", "/admin/v1/events?kind=failover").body)[u"data"_qs].toArray();
    QCOMPARE(events.size(), 1);
    const QJsonObject event = events.first().toObject();
    QCOMPARE(event[u"subject"_qs].toString(), QStringLiteral("solo"));
    QCOMPARE(event[u"detail"_qs].toObject()[u"answered_by"_qs].toString(), QStringLiteral("b/mb"));
    QCOMPARE(event[u"detail"_qs].toObject()[u"failed"_qs].toArray().first().toString(), QStringLiteral("a/ma"));
}

void TestAdminApi::secretsNeverReachTheDatabaseFile()
{
    QCOMPARE(admin("PUT", "/admin/v1/policy", policyYaml("2")).status, 200);
    QCOMPARE(chat("chat").status, 200);
    m_log->flush();
    for (const QString &name : QDir(m_dir->path()).entryList(QDir::Files)) {
        if (name.endsWith(u".token") || name.endsWith(u".key")) {
            continue; // the admin token and the key file are meant to hold exactly that
        }
        QFile file {m_dir->filePath(name)};
        QVERIFY(file.open(QIODevice::ReadOnly));
        const QByteArray bytes = file.readAll();
        QVERIFY2(!bytes.contains(PROVIDER_SECRET), qPrintable(name));
        QVERIFY2(!bytes.contains(ADMIN_TOKEN), qPrintable(name));
    }
}

void TestAdminApi::applyUnderLoadLosesNoRequest()
{
    // Four clients keep requests in flight while 20 versions are applied; every request
    // must succeed, and after the last apply all traffic follows it (weight 0 is not
    // allowed, so the last version routes "chat" to b only).
    constexpr int CLIENTS = 4;
    std::vector<std::unique_ptr<TestHttpClient>> clients;
    int sent = 0;
    int failed = 0;
    const QByteArray body = R"({"model":"chat","max_tokens":2,"stream":true,"messages":[{"role":"user","content":"hi"}]})";
    for (int i = 0; i < CLIENTS; ++i) {
        auto client = std::make_unique<TestHttpClient>(m_gateway->port());
        TestHttpClient *raw = client.get();
        connect(raw, &TestHttpClient::responseComplete, this, [raw, &sent, &failed, &body] {
            if (raw->responses().constLast().status != 200) {
                ++failed;
            }
            ++sent;
            raw->post("/v1/chat/completions", body);
        });
        raw->post("/v1/chat/completions", body);
        clients.push_back(std::move(client));
    }
    for (int version = 0; version < 20; ++version) {
        const QByteArray weight = QByteArray::number(1 + version % 5);
        const auto put = admin("PUT", "/admin/v1/policy", policyYaml(weight, "  - model: v" + QByteArray::number(version) +
                                                                                  "\n    targets: [{provider: a, model: ma}]\n"));
        QCOMPARE(put.status, 200);
    }
    const QByteArray onlyB = R"(gateway:
  admin_token: "***"
providers:
  - name: a
    type: vllm
    base_url: )" + m_a->baseUrl() + R"(
    keys: [{name: k1, secret: "***"}]
  - name: b
    type: sglang
    base_url: )" + m_b->baseUrl() + R"(
routes:
  - model: chat
    targets: [{provider: b, model: mb}]
)";
    QCOMPARE(admin("PUT", "/admin/v1/policy", onlyB).status, 200);
    const int sentAtLastApply = sent;
    const int bBefore = m_b->requestsReceived();
    const int aBefore = m_a->requestsReceived();
    QTRY_VERIFY_WITH_TIMEOUT(sent >= sentAtLastApply + 40, 20000);
    for (auto &client : clients) {
        disconnect(client.get(), nullptr, this, nullptr);
    }
    QCOMPARE(failed, 0);
    QVERIFY(sent > 100);
    // Requests that started before the last apply may still finish on a; new ones go to b.
    QVERIFY(m_a->requestsReceived() - aBefore <= CLIENTS);
    QVERIFY(m_b->requestsReceived() - bBefore >= 36);
    QCOMPARE(json(admin("GET", "/admin/v1/versions?limit=100").body)[u"data"_qs].toArray().size(), 22);
}

void TestAdminApi::auditLogIsPaginatedAndVerified()
{
    QCOMPARE(admin("GET", "/admin/v1/audit", {}, {}).status, 401);
    QCOMPARE(admin("GET", "/admin/v1/audit/verify", {}, "wrong-token").status, 401);
    QCOMPARE(admin("POST", "/admin/v1/audit").status, 405);

    const QByteArray extra = "  - model: fresh\n    targets: [{provider: b, model: mb}]\n";
    QCOMPARE(admin("PUT", "/admin/v1/policy?comment=add%20fresh", policyYaml("1", extra)).status, 200);
    const auto created = admin("POST", "/admin/v1/keys", R"({"name":"team-a"})");
    QCOMPARE(created.status, 201);
    const QByteArray key = json(created.body)[u"key"_qs].toString().toUtf8();
    QCOMPARE(admin("DELETE", "/admin/v1/keys/team-a").status, 200);
    QCOMPARE(admin("POST", "/admin/v1/versions/1/rollback").status, 200);

    // Five changes, bootstrap included; pages of two, newest first.
    QStringList actions;
    QByteArray path = "/admin/v1/audit?limit=2";
    for (int page = 0; page < 3; ++page) {
        const auto reply = admin("GET", path);
        QCOMPARE(reply.status, 200);
        QVERIFY(!reply.body.contains(key));
        QVERIFY(!reply.body.contains(PROVIDER_SECRET));
        QVERIFY(!reply.body.contains(ADMIN_TOKEN));
        const QJsonObject body = json(reply.body);
        for (const auto &row : body[u"data"_qs].toArray()) {
            actions << row.toObject()[u"action"_qs].toString();
        }
        if (body[u"next_cursor"_qs].isNull()) {
            break;
        }
        path = "/admin/v1/audit?limit=2&cursor=" + QByteArray::number(body[u"next_cursor"_qs].toInteger());
    }
    QCOMPARE(actions, (QStringList {QStringLiteral("policy.rollback"), QStringLiteral("key.revoke"),
                                    QStringLiteral("key.create"), QStringLiteral("policy.apply"),
                                    QStringLiteral("policy.bootstrap")}));
    const QJsonObject applied = json(admin("GET", "/admin/v1/audit?limit=5").body)[u"data"_qs].toArray().at(3).toObject();
    QCOMPARE(applied[u"actor"_qs].toString(), QStringLiteral("admin-api"));
    QCOMPARE(applied[u"detail"_qs].toObject()[u"comment"_qs].toString(), QStringLiteral("add fresh"));
    QVERIFY(applied[u"detail"_qs].toObject()[u"diff"_qs].toString().contains(u"+  - model: fresh"));
    QCOMPARE(json(admin("GET", "/admin/v1/audit?since=99999999999999").body)[u"data"_qs].toArray().size(), 0);
    QCOMPARE(admin("GET", "/admin/v1/audit?cursor=x").status, 400);

    const auto verified = admin("GET", "/admin/v1/audit/verify");
    QCOMPARE(verified.status, 200);
    const QJsonObject result = json(verified.body);
    QCOMPARE(result[u"ok"_qs].toBool(), true);
    QCOMPARE(result[u"rows_checked"_qs].toInteger(), 5);
    QCOMPARE(result[u"head_id"_qs].toInteger(), 5);
    QVERIFY(result[u"first_bad_id"_qs].isNull());
    const QByteArray head = result[u"head_hash"_qs].toString().toLatin1();
    QCOMPARE(head.size(), 64);
    QCOMPARE(json(admin("GET", "/admin/v1/audit/verify?anchor=" + head).body)[u"ok"_qs].toBool(), true);
    const auto unknown = json(admin("GET", "/admin/v1/audit/verify?anchor=" + QByteArray(64, 'a')).body);
    QCOMPARE(unknown[u"ok"_qs].toBool(), false);
    QVERIFY(unknown[u"reason"_qs].toString().contains(u"anchor"));
    QCOMPARE(admin("GET", "/admin/v1/audit/verify?anchor=xyz").status, 400);
}

void TestAdminApi::auditVerifyReportsAnEditedRow()
{
    QCOMPARE(admin("POST", "/admin/v1/keys", R"({"name":"team-a"})").status, 201);
    QCOMPARE(admin("DELETE", "/admin/v1/keys/team-a").status, 200);
    {
        auto db = Storage::Database::open(Storage::Database::defaultPath(m_dir->path()));
        QVERIFY(db.hasValue());
        QSqlQuery query {(*db)->connection()};
        QVERIFY(!query.exec(QStringLiteral("UPDATE audit_log SET actor = 'nobody' WHERE id = 2")));
        QVERIFY(query.exec(QStringLiteral("DROP TRIGGER audit_log_no_update")));
        QVERIFY(query.exec(QStringLiteral("UPDATE audit_log SET actor = 'nobody' WHERE id = 2")));
    }
    const auto verified = admin("GET", "/admin/v1/audit/verify");
    QCOMPARE(verified.status, 200);
    const QJsonObject result = json(verified.body);
    QCOMPARE(result[u"ok"_qs].toBool(), false);
    QCOMPARE(result[u"first_bad_id"_qs].toInteger(), 2);
    QCOMPARE(result[u"rows_checked"_qs].toInteger(), 1);
    QVERIFY(result[u"reason"_qs].toString().contains(u"modified"));
}

void TestAdminApi::spendIsQueryableByRouteAndDay()
{
    QCOMPARE(chat("chat").status, 200);
    QCOMPARE(chat("chat").status, 200);
    // Each request is two journal jobs (reservation, settlement); the settlement is queued
    // just after the answer is sent, so wait for all four to be committed.
    QTRY_VERIFY((m_journal->flush(), m_journal->committedJobs() >= 4));
    const auto byRoute = admin("GET", "/admin/v1/spend?group_by=route");
    QCOMPARE(byRoute.status, 200);
    const QJsonObject body = json(byRoute.body);
    QCOMPARE(body[u"group_by"_qs].toString(), u"route"_qs);
    const QJsonArray rows = body[u"data"_qs].toArray();
    QCOMPARE(rows.size(), 1);
    QCOMPARE(rows[0].toObject()[u"route"_qs].toString(), u"chat"_qs);
    QCOMPARE(rows[0].toObject()[u"requests"_qs].toInt(), 2);
    QCOMPARE(rows[0].toObject()[u"tokens_out"_qs].toInt(), 4);
    QCOMPARE(rows[0].toObject()[u"estimated_requests"_qs].toInt(), 0);

    const auto byDay = admin("GET", "/admin/v1/spend?group_by=day&since=0");
    QCOMPARE(byDay.status, 200);
    const QString today = QDateTime::currentDateTimeUtc().date().toString(Qt::ISODate);
    QCOMPARE(json(byDay.body)[u"data"_qs].toArray()[0].toObject()[u"day"_qs].toString(), today);

    const auto nothing = admin("GET", "/admin/v1/spend?group_by=key&until=1");
    QCOMPARE(json(nothing.body)[u"data"_qs].toArray().size(), 0);

    const auto invalid = admin("GET", "/admin/v1/spend?group_by=model");
    QCOMPARE(invalid.status, 400);
    QCOMPARE(json(invalid.body)[u"error"_qs].toObject()[u"param"_qs].toString(), u"group_by"_qs);
    QCOMPARE(admin("GET", "/admin/v1/spend?group_by=key", {}, "wrong-token").status, 401);
}

QTEST_GUILESS_MAIN(TestAdminApi)
#include "testadminapi.moc"
