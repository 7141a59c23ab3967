// DNS service discovery end to end over real sockets: an in-test DNS server answers SRV
// and A queries from a table the test changes, simulated upstreams on 127.0.0.1 (SRV
// gives each its port) serve the discovered servers, and the gateway re-compiles its
// routes as the answers change. Covers traffic to every server, a new server's slow
// start, a vanished server draining a stream in flight while new requests avoid it, the
// last known set kept through DNS failures, and startup without any answer.

#include "dnstestserver.h"
#include "gatewayfixture.h"
#include "recordingeventlog.h"
#include "sim/simulatedupstream.h"
#include "testhttpclient.h"


#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

#include <memory>
#include <vector>

using Gateway::Sim::Behaviour;
using Gateway::Sim::Flavor;
using Gateway::Sim::SimulatedUpstream;
using TestSupport::DnsTestServer;
using TestSupport::RecordingEventLog;
using TestSupport::TestHttpClient;

namespace {

const QString SRV_NAME = QStringLiteral("_http._tcp.vllm.test");
constexpr int DEADLINE_MS = 20000; // generous: the suites run in parallel on two cores

std::unique_ptr<SimulatedUpstream> startSim(const QString &name, const Behaviour &behaviour = {})
{
    auto sim = std::make_unique<SimulatedUpstream>(name, Flavor::OpenAi);
    sim->setBehaviour(behaviour);
    return sim->listen().hasValue() ? std::move(sim) : nullptr;
}

QByteArray policy(const DnsTestServer &dns, int slowStartMs = 30000)
{
    return "gateway: {admin_token: test-admin-token}\n"
           "providers:\n"
           "  - {name: vllm, type: vllm, base_url: \"http://vllm.test:8000/v1\", discovery: {type: srv, name: " +
           SRV_NAME.toUtf8() + ", interval_ms: 150, slow_start_ms: " + QByteArray::number(slowStartMs) +
           ", drain_ms: 60000, nameserver: \"" + dns.nameserver().toUtf8() +
           "\"}}\n"
           "routes:\n"
           "  - {model: chat, targets: [{provider: vllm, model: m}]}\n";
}

// Publishes `sims` as the SRV answer: pod-N.vllm.test on 127.0.0.1 at each sim's port.
void publish(DnsTestServer &dns, const std::vector<SimulatedUpstream *> &sims)
{
    QList<DnsTestServer::Srv> records;
    for (SimulatedUpstream *sim : sims) {
        const QString pod = QStringLiteral("pod-%1.vllm.test").arg(sim->port());
        dns.setAddresses(pod, {QStringLiteral("127.0.0.1")});
        records.push_back({0, 10, sim->port(), pod});
    }
    dns.setSrv(SRV_NAME, records);
}

QString serverOf(const SimulatedUpstream &sim)
{
    return QStringLiteral("127.0.0.1:%1").arg(sim.port());
}

QJsonObject adminState(quint16 port)
{
    TestHttpClient admin {port};
    admin.get("/admin/v1/state", {{"authorization", "Bearer test-admin-token"}});
    if (!admin.waitForResponses(1)) {
        return {};
    }
    return QJsonDocument::fromJson(admin.responses().constFirst().body).object();
}

QJsonObject discoveryOf(const QJsonObject &state)
{
    for (const QJsonValue &entry : state.value(QStringLiteral("discovery")).toArray()) {
        if (entry.toObject().value(QStringLiteral("provider")).toString() == u"vllm") {
            return entry.toObject();
        }
    }
    return {};
}

QStringList serverList(const QJsonObject &discovery, const char *key)
{
    QStringList out;
    for (const QJsonValue &server : discovery.value(QLatin1String(key)).toArray()) {
        out << server.toObject().value(QStringLiteral("server")).toString();
    }
    out.sort();
    return out;
}

QStringList servingServers(quint16 port)
{
    return serverList(discoveryOf(adminState(port)), "servers");
}

// The target of route "chat" on this server, from /admin/v1/state.
QJsonObject targetOn(const QJsonObject &state, const QString &server)
{
    const QString backend = QStringLiteral("vllm@%1/m").arg(server);
    for (const QJsonValue &route : state.value(QStringLiteral("routes")).toArray()) {
        for (const QJsonValue &target : route.toObject().value(QStringLiteral("targets")).toArray()) {
            if (target.toObject().value(QStringLiteral("backend")).toString() == backend) {
                return target.toObject();
            }
        }
    }
    return {};
}

double metricValue(quint16 port, const QByteArray &series)
{
    TestHttpClient client {port};
    client.get("/metrics");
    if (!client.waitForResponses(1)) {
        return -1;
    }
    for (const QByteArray &line : client.responses().constFirst().body.split('\n')) {
        if (line.startsWith(QByteArray(series + ' '))) {
            return line.mid(series.size() + 1).toDouble();
        }
    }
    return -1;
}

QByteArray chat(bool stream = false)
{
    return QByteArray("{\"model\":\"chat\",\"max_tokens\":4,\"stream\":") + (stream ? "true" : "false") +
           ",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
}

// Sends `count` requests one after another on one connection; returns how many got 200.
int sendRequests(quint16 port, int count)
{
    TestHttpClient client {port};
    int ok = 0;
    for (int i = 0; i < count; ++i) {
        client.post("/v1/chat/completions", chat());
        if (!client.waitForResponses(i + 1)) {
            return ok;
        }
        ok += client.responses().at(i).status == 200 ? 1 : 0;
    }
    return ok;
}

} // namespace

class TestDiscovery final : public QObject {
    Q_OBJECT

private slots:
    void init();
    void discoveredServersAllReceiveTraffic();
    void newServerRampsUpInSlowStart();
    void vanishedServerDrainsItsStreamAndGetsNoNewRequests();
    void dnsFailureKeepsTheLastKnownServers();
    void firstResolutionFailingAnswers503UntilServersAppear();
    void aRecordsOfTheBaseUrlHost();

private:
    std::unique_ptr<DnsTestServer> m_dns;
};

void TestDiscovery::init()
{
    m_dns = std::make_unique<DnsTestServer>();
    QVERIFY(m_dns->start());
}

void TestDiscovery::discoveredServersAllReceiveTraffic()
{
    auto a = startSim(QStringLiteral("a"));
    auto b = startSim(QStringLiteral("b"));
    auto c = startSim(QStringLiteral("c"));
    QVERIFY(a && b && c);
    publish(*m_dns, {a.get(), b.get(), c.get()});
    auto gateway = TestSupport::startGateway(policy(*m_dns), 2);
    QVERIFY(gateway);
    const quint16 port = gateway->port();
    QStringList expected {serverOf(*a), serverOf(*b), serverOf(*c)};
    expected.sort();
    QTRY_COMPARE_WITH_TIMEOUT(servingServers(port), expected, DEADLINE_MS);

    QCOMPARE(sendRequests(port, 45), 45);
    for (const auto *sim : {a.get(), b.get(), c.get()}) {
        QVERIFY2(sim->requestsReceived() >= 3, qPrintable(sim->name() + u' ' + QString::number(sim->requestsReceived())));
    }
    QCOMPARE(a->requestsReceived() + b->requestsReceived() + c->requestsReceived(), 45);
    QCOMPARE(metricValue(port, "switchyard_discovery_servers{provider=\"vllm\"}"), 3.0);
    QVERIFY(metricValue(port, "switchyard_discovery_resolutions_total{provider=\"vllm\",result=\"ok\"}") >= 1);
    // Each server is its own backend, with its own label.
    QVERIFY(!targetOn(adminState(port), serverOf(*a)).isEmpty());
}

void TestDiscovery::newServerRampsUpInSlowStart()
{
    constexpr int SLOW_START_MS = 6000;
    auto a = startSim(QStringLiteral("a"));
    auto b = startSim(QStringLiteral("b"));
    QVERIFY(a && b);
    publish(*m_dns, {a.get()});
    auto gateway = TestSupport::startGateway(policy(*m_dns, SLOW_START_MS), 1);
    QVERIFY(gateway);
    RecordingEventLog log;
    gateway->setRequestLog(&log);
    const quint16 port = gateway->port();
    QTRY_COMPARE_WITH_TIMEOUT(servingServers(port), QStringList {serverOf(*a)}, DEADLINE_MS);
    // The first set known is not ramped: nothing served before it.
    QCOMPARE(targetOn(adminState(port), serverOf(*a)).value(QStringLiteral("health_weight")).toDouble(), 1.0);

    publish(*m_dns, {a.get(), b.get()});
    QTRY_VERIFY_WITH_TIMEOUT(servingServers(port).contains(serverOf(*b)), DEADLINE_MS);
    QTRY_VERIFY_WITH_TIMEOUT(!log.events(QStringLiteral("discovery.changed")).isEmpty(), DEADLINE_MS);
    const QJsonObject changed = log.events(QStringLiteral("discovery.changed")).constLast();
    QCOMPARE(changed.value(QStringLiteral("added")).toArray().first().toString(), serverOf(*b));

    // Early in the ramp the new server takes the smaller share.
    QCOMPARE(sendRequests(port, 40), 40);
    const int earlyA = a->requestsReceived();
    const int earlyB = b->requestsReceived();
    QVERIFY2(earlyB > 0 && earlyB < 40 - earlyB, qPrintable(QStringLiteral("a=%1 b=%2").arg(earlyA).arg(earlyB)));

    // Its weight only grows, until it is a full member.
    QList<double> weights;
    QElapsedTimer clock;
    clock.start();
    while (clock.elapsed() < SLOW_START_MS * 4) {
        const double weight = targetOn(adminState(port), serverOf(*b)).value(QStringLiteral("health_weight")).toDouble(-1);
        QVERIFY(weight > 0);
        weights << weight;
        if (weight >= 1.0) {
            break;
        }
        QTest::qWait(250); // sampling interval of the ramp, not synchronisation
    }
    qInfo("early split a=%d b=%d; slow-start weights seen: %s", earlyA, earlyB,
          qPrintable([&weights] {
              QStringList text;
              for (const double weight : weights) {
                  text << QString::number(weight, 'f', 2);
              }
              return text.join(u' ');
          }()));
    QVERIFY2(weights.size() >= 3, "the ramp was not observed");
    QVERIFY2(weights.first() < 0.8, qPrintable(QString::number(weights.first())));
    QCOMPARE(weights.last(), 1.0);
    for (qsizetype i = 1; i < weights.size(); ++i) {
        QVERIFY2(weights[i] >= weights[i - 1], "the slow-start weight went down");
    }
    // At full weight the two servers share evenly (generous bounds).
    const int beforeA = a->requestsReceived();
    const int beforeB = b->requestsReceived();
    QCOMPARE(sendRequests(port, 40), 40);
    const int lateB = b->requestsReceived() - beforeB;
    QVERIFY2(lateB >= 10 && lateB <= 30, qPrintable(QStringLiteral("a=%1 b=%2").arg(a->requestsReceived() - beforeA).arg(lateB)));
}

void TestDiscovery::vanishedServerDrainsItsStreamAndGetsNoNewRequests()
{
    Behaviour holding;
    holding.holdStreamAfterChunks = 1; // a stream stops after its first event until released
    holding.defaultMaxTokens = 8;
    auto a = startSim(QStringLiteral("a"), holding);
    auto b = startSim(QStringLiteral("b"), holding);
    QVERIFY(a && b);
    publish(*m_dns, {a.get(), b.get()});
    auto gateway = TestSupport::startGateway(policy(*m_dns), 2);
    QVERIFY(gateway);
    RecordingEventLog log;
    gateway->setRequestLog(&log);
    const quint16 port = gateway->port();
    QTRY_COMPARE_WITH_TIMEOUT(servingServers(port).size(), 2, DEADLINE_MS);

    TestHttpClient streamClient {port};
    streamClient.post("/v1/chat/completions", chat(true));
    QTRY_VERIFY_WITH_TIMEOUT(a->heldStreams() + b->heldStreams() == 1, DEADLINE_MS);
    SimulatedUpstream &busy = a->heldStreams() == 1 ? *a : *b;
    SimulatedUpstream &other = &busy == a.get() ? *b : *a;

    // The busy server vanishes from DNS: it drains, listed with its stream in flight.
    publish(*m_dns, {&other});
    QTRY_COMPARE_WITH_TIMEOUT(servingServers(port), QStringList {serverOf(other)}, DEADLINE_MS);
    const QJsonObject discovery = discoveryOf(adminState(port));
    QCOMPARE(serverList(discovery, "draining"), QStringList {serverOf(busy)});
    QCOMPARE(discovery.value(QStringLiteral("draining")).toArray().first().toObject().value(QStringLiteral("in_flight")).toInt(),
             1);
    QTRY_VERIFY_WITH_TIMEOUT(!log.events(QStringLiteral("discovery.changed")).isEmpty(), DEADLINE_MS);
    QCOMPARE(log.events(QStringLiteral("discovery.changed")).constLast().value(QStringLiteral("removed")).toArray().first().toString(),
             serverOf(busy));
    QCOMPARE(metricValue(port, "switchyard_discovery_draining_servers{provider=\"vllm\"}"), 1.0);

    // New requests all go to the server still listed.
    const int busyBefore = busy.requestsReceived();
    const int otherBefore = other.requestsReceived();
    QCOMPARE(sendRequests(port, 12), 12);
    QCOMPARE(busy.requestsReceived(), busyBefore);
    QCOMPARE(other.requestsReceived(), otherBefore + 12);

    // The stream in flight on the vanished server runs to its end.
    QVERIFY(!streamClient.waitForResponses(1, 200)); // still held: not complete yet
    busy.releaseHeldStreams();
    QVERIFY(streamClient.waitForResponses(1, DEADLINE_MS));
    const auto response = streamClient.responses().constFirst();
    QCOMPARE(response.status, 200);
    const QList<QByteArray> events = response.sseDataLines();
    QVERIFY(events.size() >= 3);
    QCOMPARE(events.constLast(), QByteArray("[DONE]"));
    QCOMPARE(busy.streamsCompleted(), 1);
}

void TestDiscovery::dnsFailureKeepsTheLastKnownServers()
{
    auto a = startSim(QStringLiteral("a"));
    auto b = startSim(QStringLiteral("b"));
    QVERIFY(a && b);
    publish(*m_dns, {a.get(), b.get()});
    auto gateway = TestSupport::startGateway(policy(*m_dns), 1);
    QVERIFY(gateway);
    RecordingEventLog log;
    gateway->setRequestLog(&log);
    const quint16 port = gateway->port();
    QTRY_COMPARE_WITH_TIMEOUT(servingServers(port).size(), 2, DEADLINE_MS);

    const QByteArray errors = "switchyard_discovery_resolutions_total{provider=\"vllm\",result=\"error\"}";
    const QByteArray empties = "switchyard_discovery_resolutions_total{provider=\"vllm\",result=\"empty\"}";
    QCOMPARE(metricValue(port, errors), 0.0);
    m_dns->setMode(DnsTestServer::Mode::Silent);
    QTRY_VERIFY_WITH_TIMEOUT(metricValue(port, errors) >= 2, DEADLINE_MS);
    QCOMPARE(servingServers(port).size(), 2);
    QCOMPARE(log.events(QStringLiteral("discovery.failed")).size(), 1); // once per outage, not per try
    QVERIFY(!discoveryOf(adminState(port)).value(QStringLiteral("last_error")).toString().isEmpty());
    // An empty answer (the name gone) keeps them too.
    m_dns->setMode(DnsTestServer::Mode::Answer);
    m_dns->removeName(SRV_NAME);
    QTRY_VERIFY_WITH_TIMEOUT(metricValue(port, empties) >= 2, DEADLINE_MS);
    QCOMPARE(servingServers(port).size(), 2);
    QCOMPARE(metricValue(port, "switchyard_discovery_servers{provider=\"vllm\"}"), 2.0);
    const int before = a->requestsReceived() + b->requestsReceived();
    QCOMPARE(sendRequests(port, 10), 10);
    QCOMPARE(a->requestsReceived() + b->requestsReceived(), before + 10);
    // DNS back: recovered, and the event says so.
    publish(*m_dns, {a.get(), b.get()});
    QTRY_VERIFY_WITH_TIMEOUT(!log.events(QStringLiteral("discovery.recovered")).isEmpty(), DEADLINE_MS);
    QTRY_VERIFY_WITH_TIMEOUT(discoveryOf(adminState(port)).value(QStringLiteral("last_error")).isNull(), DEADLINE_MS);
}

void TestDiscovery::firstResolutionFailingAnswers503UntilServersAppear()
{
    auto a = startSim(QStringLiteral("a"));
    QVERIFY(a);
    m_dns->setMode(DnsTestServer::Mode::ServFail);
    auto gateway = TestSupport::startGateway(policy(*m_dns), 1); // starts without any answer
    QVERIFY(gateway);
    const quint16 port = gateway->port();
    QTRY_VERIFY_WITH_TIMEOUT(
        metricValue(port, "switchyard_discovery_resolutions_total{provider=\"vllm\",result=\"error\"}") >= 1, DEADLINE_MS);
    QCOMPARE(metricValue(port, "switchyard_discovery_servers{provider=\"vllm\"}"), 0.0);
    {
        TestHttpClient client {port};
        client.post("/v1/chat/completions", chat());
        QVERIFY(client.waitForResponses(1));
        const auto response = client.responses().constFirst();
        QCOMPARE(response.status, 503);
        const QJsonObject error = QJsonDocument::fromJson(response.body).object().value(QStringLiteral("error")).toObject();
        QVERIFY2(error.value(QStringLiteral("message")).toString().contains(u"provider 'vllm'"), response.body.constData());
        QCOMPARE(error.value(QStringLiteral("code")).toString(), QStringLiteral("no_servers_discovered"));
    }
    QVERIFY(!discoveryOf(adminState(port)).value(QStringLiteral("known")).toBool());
    publish(*m_dns, {a.get()});
    m_dns->setMode(DnsTestServer::Mode::Answer);
    QTRY_COMPARE_WITH_TIMEOUT(servingServers(port), QStringList {serverOf(*a)}, DEADLINE_MS);
    QCOMPARE(sendRequests(port, 3), 3);
    QCOMPARE(a->requestsReceived(), 3);
}

void TestDiscovery::aRecordsOfTheBaseUrlHost()
{
    auto a = startSim(QStringLiteral("a"));
    QVERIFY(a);
    m_dns->setAddresses(QStringLiteral("vllm-a.test"), {QStringLiteral("127.0.0.1")});
    const QByteArray yaml = "gateway: {admin_token: test-admin-token}\nproviders:\n"
                            "  - {name: vllm, type: vllm, base_url: \"http://vllm-a.test:" +
                            QByteArray::number(a->port()) +
                            "/v1\", discovery: {type: a, interval_ms: 150, nameserver: \"" +
                            m_dns->nameserver().toUtf8() +
                            "\"}}\nroutes:\n  - {model: chat, targets: [{provider: vllm, model: m}]}\n";
    auto gateway = TestSupport::startGateway(yaml, 1);
    QVERIFY(gateway);
    const quint16 port = gateway->port();
    QTRY_COMPARE_WITH_TIMEOUT(servingServers(port), QStringList {serverOf(*a)}, DEADLINE_MS);
    QCOMPARE(sendRequests(port, 4), 4);
    QCOMPARE(a->requestsReceived(), 4);
}

QTEST_MAIN(TestDiscovery)
#include "testdiscovery.moc"
