#include "dnstestserver.h"

#include <QHostAddress>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace TestSupport {

namespace {

constexpr quint16 TYPE_A = 1;
constexpr quint16 TYPE_AAAA = 28;
constexpr quint16 TYPE_SRV = 33;
constexpr int RCODE_SERVFAIL = 2;
constexpr int RCODE_NXDOMAIN = 3;
constexpr int TTL_SECONDS = 1;

QString normalized(QString name)
{
    name = name.toLower();
    while (name.endsWith(u'.')) {
        name.chop(1);
    }
    return name;
}

void put16(QByteArray &out, int value)
{
    out += static_cast<char>((value >> 8) & 0xff);
    out += static_cast<char>(value & 0xff);
}

void put32(QByteArray &out, quint32 value)
{
    put16(out, static_cast<int>(value >> 16));
    put16(out, static_cast<int>(value & 0xffff));
}

QByteArray encodedName(const QString &name)
{
    QByteArray out;
    for (const QString &label : name.split(u'.', Qt::SkipEmptyParts)) {
        const QByteArray bytes = label.toUtf8();
        out += static_cast<char>(bytes.size());
        out += bytes;
    }
    out += '\0';
    return out;
}

void putRecord(QByteArray &out, const QByteArray &owner, quint16 type, const QByteArray &rdata)
{
    out += owner;
    put16(out, type);
    put16(out, 1); // IN
    put32(out, TTL_SECONDS);
    put16(out, static_cast<int>(rdata.size()));
    out += rdata;
}

// A or AAAA rdata for an address of the asked family; empty when it is the other family.
QByteArray addressData(const QString &text, quint16 type)
{
    const QHostAddress address(text);
    if (type == TYPE_A && address.protocol() == QAbstractSocket::IPv4Protocol) {
        QByteArray out;
        put32(out, address.toIPv4Address());
        return out;
    }
    if (type == TYPE_AAAA && address.protocol() == QAbstractSocket::IPv6Protocol) {
        const Q_IPV6ADDR bytes = address.toIPv6Address();
        return QByteArray(reinterpret_cast<const char *>(bytes.c), 16);
    }
    return {};
}

} // namespace

DnsTestServer::DnsTestServer() = default;

DnsTestServer::~DnsTestServer()
{
    m_stopping = true;
    if (m_thread.joinable()) {
        m_thread.join();
    }
    if (m_socket >= 0) {
        ::close(m_socket);
    }
}

bool DnsTestServer::start()
{
    m_socket = ::socket(AF_INET, SOCK_DGRAM, 0);
    if (m_socket < 0) {
        return false;
    }
    sockaddr_in address {};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(m_socket, reinterpret_cast<sockaddr *>(&address), sizeof address) != 0) {
        return false;
    }
    socklen_t length = sizeof address;
    ::getsockname(m_socket, reinterpret_cast<sockaddr *>(&address), &length);
    m_port = ntohs(address.sin_port);
    m_thread = std::thread {[this] { run(); }};
    return true;
}

void DnsTestServer::setAddresses(const QString &name, const QStringList &addresses)
{
    const std::lock_guard lock {m_mutex};
    m_addresses.insert(normalized(name), addresses);
}

void DnsTestServer::setSrv(const QString &name, const QList<Srv> &records)
{
    const std::lock_guard lock {m_mutex};
    m_srv.insert(normalized(name), records);
}

void DnsTestServer::removeName(const QString &name)
{
    const std::lock_guard lock {m_mutex};
    m_addresses.remove(normalized(name));
    m_srv.remove(normalized(name));
}

void DnsTestServer::setAdditionalRecords(bool on)
{
    const std::lock_guard lock {m_mutex};
    m_additional = on;
}

void DnsTestServer::setMode(Mode mode)
{
    const std::lock_guard lock {m_mutex};
    m_mode = mode;
}

void DnsTestServer::run()
{
    QByteArray buffer(4096, '\0');
    while (!m_stopping) {
        pollfd fd {m_socket, POLLIN, 0};
        // Bounded so the destructor's stop flag is seen; not a synchronisation sleep.
        if (::poll(&fd, 1, 50) <= 0) {
            continue;
        }
        sockaddr_in peer {};
        socklen_t peerLength = sizeof peer;
        const ssize_t received = ::recvfrom(m_socket, buffer.data(), static_cast<size_t>(buffer.size()), 0,
                                            reinterpret_cast<sockaddr *>(&peer), &peerLength);
        if (received <= 12) {
            continue;
        }
        ++m_queries;
        const QByteArray reply = answer(buffer.left(static_cast<qsizetype>(received)));
        if (!reply.isEmpty()) {
            ::sendto(m_socket, reply.constData(), static_cast<size_t>(reply.size()), 0,
                     reinterpret_cast<sockaddr *>(&peer), peerLength);
        }
    }
}

QByteArray DnsTestServer::answer(const QByteArray &query)
{
    // The question: labels from offset 12, then type and class.
    QString name;
    qsizetype at = 12;
    while (at < query.size() && query[at] != '\0') {
        const int length = static_cast<unsigned char>(query[at]);
        if ((length & 0xc0) != 0 || at + 1 + length > query.size()) {
            return {};
        }
        name += (name.isEmpty() ? QString() : QStringLiteral(".")) + QString::fromUtf8(query.mid(at + 1, length));
        at += 1 + length;
    }
    if (at + 5 > query.size()) {
        return {};
    }
    const QByteArray question = query.mid(12, at + 5 - 12);
    const quint16 type = static_cast<quint16>((static_cast<unsigned char>(query[at + 1]) << 8) |
                                              static_cast<unsigned char>(query[at + 2]));
    name = normalized(name);

    const std::lock_guard lock {m_mutex};
    if (m_mode == Mode::Silent) {
        return {};
    }
    QByteArray answers;
    QByteArray additional;
    int answerCount = 0;
    int additionalCount = 0;
    int rcode = 0;
    const QByteArray pointerToQuestion("\xc0\x0c", 2);
    if (m_mode == Mode::ServFail) {
        rcode = RCODE_SERVFAIL;
    } else if (!m_addresses.contains(name) && !m_srv.contains(name)) {
        rcode = RCODE_NXDOMAIN;
    } else if (type == TYPE_SRV) {
        for (const Srv &srv : m_srv.value(name)) {
            QByteArray rdata;
            put16(rdata, srv.priority);
            put16(rdata, srv.weight);
            put16(rdata, srv.port);
            rdata += encodedName(srv.target);
            putRecord(answers, pointerToQuestion, TYPE_SRV, rdata);
            ++answerCount;
            if (m_additional) {
                for (const quint16 addressType : {TYPE_A, TYPE_AAAA}) {
                    for (const QString &address : m_addresses.value(normalized(srv.target))) {
                        const QByteArray data = addressData(address, addressType);
                        if (!data.isEmpty()) {
                            putRecord(additional, encodedName(srv.target), addressType, data);
                            ++additionalCount;
                        }
                    }
                }
            }
        }
    } else if (type == TYPE_A || type == TYPE_AAAA) {
        for (const QString &address : m_addresses.value(name)) {
            const QByteArray data = addressData(address, type);
            if (!data.isEmpty()) {
                putRecord(answers, pointerToQuestion, type, data);
                ++answerCount;
            }
        }
    }
    QByteArray reply;
    reply += query.left(2);                        // id
    put16(reply, 0x8400 | 0x0100 | 0x0080 | rcode); // QR, AA, RD, RA
    put16(reply, 1);
    put16(reply, answerCount);
    put16(reply, 0);
    put16(reply, additionalCount);
    reply += question;
    reply += answers;
    reply += additional;
    return reply;
}

} // namespace TestSupport
