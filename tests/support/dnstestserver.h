#pragma once

#include <QByteArray>
#include <QList>
#include <QMap>
#include <QString>
#include <QStringList>

#include <atomic>
#include <mutex>
#include <thread>

namespace TestSupport {

// A small authoritative DNS server for tests: UDP on 127.0.0.1 (random port), answering
// A, AAAA and SRV queries from a table the test changes while it runs. Names not in the
// table get NXDOMAIN; a known name without records of the asked type gets an empty
// NOERROR answer. It can stop answering (queries dropped, as a dead server would) or
// answer SERVFAIL. Runs on its own thread, so it answers while the test thread waits.
class DnsTestServer final {
public:
    struct Srv {
        int priority = 0;
        int weight = 0;
        quint16 port = 0;
        QString target;
    };
    enum class Mode { Answer, Silent, ServFail };

    DnsTestServer();
    ~DnsTestServer();
    DnsTestServer(const DnsTestServer &) = delete;
    DnsTestServer &operator=(const DnsTestServer &) = delete;

    bool start(); // binds 127.0.0.1:0 and starts answering
    quint16 port() const { return m_port; }
    QString nameserver() const { return QStringLiteral("127.0.0.1:%1").arg(m_port); }

    // Addresses of `name` (IPv4 answer A, IPv6 answer AAAA); an empty list keeps the name
    // known with no addresses.
    void setAddresses(const QString &name, const QStringList &addresses);
    void setSrv(const QString &name, const QList<Srv> &records);
    void removeName(const QString &name);
    // SRV answers carry their targets' addresses in the additional section (as
    // Kubernetes' DNS does) unless this is off.
    void setAdditionalRecords(bool on);
    void setMode(Mode mode);

    int queries() const { return m_queries.load(); }

private:
    void run();
    QByteArray answer(const QByteArray &query);

    int m_socket = -1;
    quint16 m_port = 0;
    std::atomic<bool> m_stopping {false};
    std::atomic<int> m_queries {0};
    mutable std::mutex m_mutex;
    QMap<QString, QStringList> m_addresses; // lower-case names without the final dot
    QMap<QString, QList<Srv>> m_srv;
    bool m_additional = true;
    Mode m_mode = Mode::Answer;
    std::thread m_thread;
};

} // namespace TestSupport
