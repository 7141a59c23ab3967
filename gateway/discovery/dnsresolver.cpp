#include "dnsresolver.h"

#include <QHostAddress>

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>

namespace Gateway::Discovery {

namespace {

// Big enough for the answers of a large headless service (a UDP answer is truncated at
// 512 bytes without EDNS anyway; the library retries over TCP when it is).
constexpr int ANSWER_BYTES = 65536;

// A private resolver state, closed on every path out.
class ResolverState final {
public:
    ResolverState() { std::memset(&m_state, 0, sizeof m_state); }
    ~ResolverState()
    {
        if (m_open) {
            res_nclose(&m_state);
        }
    }
    ResolverState(const ResolverState &) = delete;
    ResolverState &operator=(const ResolverState &) = delete;

    // Reads the system configuration (/etc/resolv.conf), then applies the overrides.
    QString open(const DnsQuestion &question)
    {
        if (res_ninit(&m_state) != 0) {
            return QStringLiteral("the resolver could not be initialised (res_ninit)");
        }
        m_open = true;
        m_state.retrans = std::max(1, question.timeoutSeconds);
        m_state.retry = std::max(1, question.tries);
        // Names are queried as given: a search list would turn a vanished name into
        // another name's answer.
        m_state.options &= ~static_cast<unsigned long>(RES_DEFNAMES | RES_DNSRCH);
        if (!question.nameserver.isEmpty()) {
            const qsizetype colon = question.nameserver.lastIndexOf(u':');
            sockaddr_in address {};
            address.sin_family = AF_INET;
            address.sin_port = htons(static_cast<quint16>(question.nameserver.mid(colon + 1).toUInt()));
            if (inet_pton(AF_INET, question.nameserver.left(colon).toLatin1().constData(), &address.sin_addr) != 1) {
                return QStringLiteral("nameserver '%1' is not an IPv4 address:port").arg(question.nameserver);
            }
            m_state.nsaddr_list[0] = address;
            m_state.nscount = 1;
        }
        return {};
    }

    res_state get() { return &m_state; }

private:
    struct __res_state m_state;
    bool m_open = false;
};

struct Query {
    std::vector<unsigned char> answer;
    int length = -1;
    int herrno = 0;
};

Query query(ResolverState &state, const QByteArray &name, int type)
{
    Query result;
    result.answer.resize(ANSWER_BYTES);
    result.length = res_nquery(state.get(), name.constData(), ns_c_in, type, result.answer.data(), ANSWER_BYTES);
    result.herrno = state.get()->res_h_errno;
    return result;
}

// "No such name" and "no records of that type" are answers (the set is empty); every
// other failure is the resolver not answering.
bool isNegativeAnswer(const Query &result)
{
    return result.length < 0 && (result.herrno == HOST_NOT_FOUND || result.herrno == NO_DATA);
}

QString failureText(const QByteArray &name, const char *type, const Query &result)
{
    return QStringLiteral("%1 %2: %3").arg(QString::fromLatin1(type), QString::fromUtf8(name),
                                           QString::fromUtf8(hstrerror(result.herrno)));
}

QString addressText(int family, const unsigned char *data)
{
    std::array<char, INET6_ADDRSTRLEN> text {};
    inet_ntop(family, data, text.data(), static_cast<socklen_t>(text.size()));
    return QString::fromLatin1(text.data());
}

// Addresses of `owner` (any name when empty) in one section of a parsed answer.
void collectAddresses(ns_msg &message, ns_sect section, const QByteArray &owner, std::vector<QString> &out)
{
    const int count = ns_msg_count(message, section);
    for (int i = 0; i < count; ++i) {
        ns_rr record;
        if (ns_parserr(&message, section, i, &record) != 0) {
            continue;
        }
        if (!owner.isEmpty() && qstricmp(ns_rr_name(record), owner.constData()) != 0) {
            continue;
        }
        if (ns_rr_type(record) == ns_t_a && ns_rr_rdlen(record) == 4) {
            out.push_back(addressText(AF_INET, ns_rr_rdata(record)));
        } else if (ns_rr_type(record) == ns_t_aaaa && ns_rr_rdlen(record) == 16) {
            out.push_back(addressText(AF_INET6, ns_rr_rdata(record)));
        }
    }
}

// The A and AAAA addresses of a name. `error` is set when neither query was answered.
std::vector<QString> addressesOf(ResolverState &state, const QByteArray &name, QString &error)
{
    std::vector<QString> addresses;
    int answered = 0;
    QStringList failures;
    for (const auto &[type, typeName] : {std::pair {int {ns_t_a}, "A"}, std::pair {int {ns_t_aaaa}, "AAAA"}}) {
        const Query result = query(state, name, type);
        if (isNegativeAnswer(result)) {
            ++answered;
            continue;
        }
        ns_msg message;
        if (result.length < 0 || ns_initparse(result.answer.data(), result.length, &message) != 0) {
            failures << failureText(name, typeName, result);
            continue;
        }
        ++answered;
        collectAddresses(message, ns_s_an, {}, addresses);
    }
    if (answered == 0) {
        error = failures.join(QStringLiteral("; "));
    }
    return addresses;
}

struct SrvRecord {
    int priority = 0;
    quint16 port = 0;
    QByteArray target;
};

DnsAnswer resolveSrv(ResolverState &state, const DnsQuestion &question)
{
    DnsAnswer answer;
    const QByteArray name = question.name.toUtf8();
    const Query result = query(state, name, ns_t_srv);
    if (isNegativeAnswer(result)) {
        answer.result = DnsAnswer::Result::Empty;
        answer.error = failureText(name, "SRV", result);
        return answer;
    }
    ns_msg message;
    if (result.length < 0 || ns_initparse(result.answer.data(), result.length, &message) != 0) {
        answer.error = failureText(name, "SRV", result);
        return answer;
    }
    std::vector<SrvRecord> records;
    for (int i = 0; i < ns_msg_count(message, ns_s_an); ++i) {
        ns_rr record;
        if (ns_parserr(&message, ns_s_an, i, &record) != 0 || ns_rr_type(record) != ns_t_srv || ns_rr_rdlen(record) < 7) {
            continue;
        }
        const unsigned char *rdata = ns_rr_rdata(record);
        SrvRecord srv;
        srv.priority = ns_get16(rdata);
        srv.port = static_cast<quint16>(ns_get16(rdata + 4));
        std::array<char, NS_MAXDNAME> target {};
        if (dn_expand(ns_msg_base(message), ns_msg_end(message), rdata + 6, target.data(), static_cast<int>(target.size())) <
            0) {
            continue;
        }
        srv.target = QByteArray(target.data());
        if (srv.port != 0 && !srv.target.isEmpty() && srv.target != ".") {
            records.push_back(std::move(srv));
        }
    }
    if (records.empty()) {
        answer.result = DnsAnswer::Result::Empty;
        answer.error = QStringLiteral("SRV %1: no usable records").arg(question.name);
        return answer;
    }
    const int best = std::min_element(records.begin(), records.end(), [](const SrvRecord &a, const SrvRecord &b) {
                         return a.priority < b.priority;
                     })->priority;
    QStringList failures;
    for (const SrvRecord &srv : records) {
        if (srv.priority != best) {
            continue;
        }
        std::vector<QString> addresses;
        collectAddresses(message, ns_s_ar, srv.target, addresses);
        if (addresses.empty()) {
            QString error;
            addresses = addressesOf(state, srv.target, error);
            if (!error.isEmpty()) {
                failures << error;
            }
        }
        for (const QString &address : addresses) {
            answer.servers.push_back({address, srv.port});
        }
    }
    if (answer.servers.empty() && !failures.isEmpty()) {
        // The targets exist but their addresses did not resolve: not an answer.
        answer.error = failures.join(QStringLiteral("; "));
        return answer;
    }
    answer.result = answer.servers.empty() ? DnsAnswer::Result::Empty : DnsAnswer::Result::Ok;
    if (answer.servers.empty()) {
        answer.error = QStringLiteral("SRV %1: the targets have no addresses").arg(question.name);
    }
    return answer;
}

DnsAnswer resolveA(ResolverState &state, const DnsQuestion &question)
{
    DnsAnswer answer;
    QString error;
    const std::vector<QString> addresses = addressesOf(state, question.name.toUtf8(), error);
    if (!error.isEmpty()) {
        answer.error = error;
        return answer;
    }
    for (const QString &address : addresses) {
        answer.servers.push_back({address, question.port});
    }
    answer.result = answer.servers.empty() ? DnsAnswer::Result::Empty : DnsAnswer::Result::Ok;
    if (answer.servers.empty()) {
        answer.error = QStringLiteral("%1 has no A or AAAA records").arg(question.name);
    }
    return answer;
}

} // namespace

DnsAnswer resolve(const DnsQuestion &question)
{
    ResolverState state;
    if (const QString error = state.open(question); !error.isEmpty()) {
        DnsAnswer answer;
        answer.error = error;
        return answer;
    }
    DnsAnswer answer = question.type == Config::Discovery::Type::Srv ? resolveSrv(state, question) : resolveA(state, question);
    std::sort(answer.servers.begin(), answer.servers.end());
    answer.servers.erase(std::unique(answer.servers.begin(), answer.servers.end()), answer.servers.end());
    return answer;
}

} // namespace Gateway::Discovery
