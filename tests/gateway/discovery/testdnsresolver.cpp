// The resolver (glibc's libresolv) against the in-test DNS server over real UDP: A and
// AAAA together, SRV with and without additional records, the lowest SRV priority only,
// NXDOMAIN as an empty answer, and a server that stops answering as an error.

#include "discovery/dnsresolver.h"

#include "dnstestserver.h"

#include <QTest>

using Gateway::Config::Discovery;
using Gateway::Discovery::DnsAnswer;
using Gateway::Discovery::DnsQuestion;
using Gateway::Discovery::ServerAddress;
using TestSupport::DnsTestServer;

class TestDnsResolver final : public QObject {
    Q_OBJECT

private slots:
    void init();
    void aCollectsIpv4AndIpv6();
    void srvUsesAdditionalRecordsOrQueriesTargets();
    void srvKeepsTheLowestPriority();
    void unknownNameIsAnEmptyAnswer();
    void silentOrFailingServerIsAnError();

private:
    DnsQuestion question(Discovery::Type type, const QString &name) const
    {
        DnsQuestion q;
        q.type = type;
        q.name = name;
        q.port = 8000;
        q.nameserver = m_dns->nameserver();
        q.timeoutSeconds = 1;
        q.tries = 1;
        return q;
    }

    std::unique_ptr<DnsTestServer> m_dns;
};

void TestDnsResolver::init()
{
    m_dns = std::make_unique<DnsTestServer>();
    QVERIFY(m_dns->start());
}

void TestDnsResolver::aCollectsIpv4AndIpv6()
{
    m_dns->setAddresses(QStringLiteral("vllm.test"), {QStringLiteral("10.0.0.6"), QStringLiteral("10.0.0.5"),
                                                      QStringLiteral("fd00::7")});
    const DnsAnswer answer = Gateway::Discovery::resolve(question(Discovery::Type::A, QStringLiteral("vllm.test")));
    QCOMPARE(answer.result, DnsAnswer::Result::Ok);
    const std::vector<ServerAddress> expected {
        {QStringLiteral("10.0.0.5"), 8000}, {QStringLiteral("10.0.0.6"), 8000}, {QStringLiteral("fd00::7"), 8000}};
    QVERIFY(answer.servers == expected);
}

void TestDnsResolver::srvUsesAdditionalRecordsOrQueriesTargets()
{
    m_dns->setSrv(QStringLiteral("_http._tcp.vllm.test"),
                  {{0, 10, 8001, QStringLiteral("pod-a.vllm.test")}, {0, 10, 8002, QStringLiteral("pod-b.vllm.test")}});
    m_dns->setAddresses(QStringLiteral("pod-a.vllm.test"), {QStringLiteral("127.0.0.1")});
    m_dns->setAddresses(QStringLiteral("pod-b.vllm.test"), {QStringLiteral("127.0.0.2")});
    const std::vector<ServerAddress> expected {{QStringLiteral("127.0.0.1"), 8001}, {QStringLiteral("127.0.0.2"), 8002}};
    for (const bool additional : {true, false}) {
        m_dns->setAdditionalRecords(additional);
        const int before = m_dns->queries();
        const DnsAnswer answer =
            Gateway::Discovery::resolve(question(Discovery::Type::Srv, QStringLiteral("_http._tcp.vllm.test")));
        QCOMPARE(answer.result, DnsAnswer::Result::Ok);
        QVERIFY(answer.servers == expected);
        // With the addresses in the answer, one query; without, SRV + A and AAAA per target.
        QCOMPARE(m_dns->queries() - before, additional ? 1 : 5);
    }
}

void TestDnsResolver::srvKeepsTheLowestPriority()
{
    m_dns->setSrv(QStringLiteral("_http._tcp.vllm.test"),
                  {{5, 10, 8001, QStringLiteral("backup.vllm.test")}, {1, 10, 8002, QStringLiteral("main.vllm.test")}});
    m_dns->setAddresses(QStringLiteral("backup.vllm.test"), {QStringLiteral("127.0.0.3")});
    m_dns->setAddresses(QStringLiteral("main.vllm.test"), {QStringLiteral("127.0.0.4")});
    const DnsAnswer answer =
        Gateway::Discovery::resolve(question(Discovery::Type::Srv, QStringLiteral("_http._tcp.vllm.test")));
    QCOMPARE(answer.result, DnsAnswer::Result::Ok);
    QCOMPARE(answer.servers.size(), std::size_t {1});
    QCOMPARE(answer.servers.front().hostPort(), QStringLiteral("127.0.0.4:8002"));
}

void TestDnsResolver::unknownNameIsAnEmptyAnswer()
{
    const DnsAnswer srv =
        Gateway::Discovery::resolve(question(Discovery::Type::Srv, QStringLiteral("_http._tcp.gone.test")));
    QCOMPARE(srv.result, DnsAnswer::Result::Empty);
    QVERIFY(srv.servers.empty());
    m_dns->setAddresses(QStringLiteral("noaddr.test"), {});
    const DnsAnswer a = Gateway::Discovery::resolve(question(Discovery::Type::A, QStringLiteral("noaddr.test")));
    QCOMPARE(a.result, DnsAnswer::Result::Empty);
}

void TestDnsResolver::silentOrFailingServerIsAnError()
{
    m_dns->setAddresses(QStringLiteral("vllm.test"), {QStringLiteral("10.0.0.5")});
    m_dns->setMode(DnsTestServer::Mode::ServFail);
    DnsAnswer answer = Gateway::Discovery::resolve(question(Discovery::Type::A, QStringLiteral("vllm.test")));
    QCOMPARE(answer.result, DnsAnswer::Result::Error);
    QVERIFY(!answer.error.isEmpty());
    m_dns->setMode(DnsTestServer::Mode::Silent);
    answer = Gateway::Discovery::resolve(question(Discovery::Type::A, QStringLiteral("vllm.test")));
    QCOMPARE(answer.result, DnsAnswer::Result::Error);
    QVERIFY2(!answer.error.isEmpty(), "no reason given");
}

QTEST_APPLESS_MAIN(TestDnsResolver)
#include "testdnsresolver.moc"
