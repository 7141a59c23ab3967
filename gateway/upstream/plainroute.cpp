#include "plainroute.h"

#include "headermatch.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

namespace Gateway::Upstream {

namespace {

// Characters curl sends in a path or query exactly as given (it re-encodes others).
bool isPlainTargetChar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::strchr("-._~/%!$&'()*+,;=:@?", c) != nullptr;
}

bool hasDotSegment(QByteArrayView path)
{
    // "/./" and "/../" (and at the end) are normalised away by curl.
    for (qsizetype i = 0; i + 1 < path.size(); ++i) {
        if (path[i] != '/' || path[i + 1] != '.') {
            continue;
        }
        const qsizetype next = i + 2;
        if (next == path.size() || path[next] == '/' || path[next] == '?') {
            return true;
        }
        if (path[next] == '.' && (next + 1 == path.size() || path[next + 1] == '/' || path[next + 1] == '?')) {
            return true;
        }
    }
    return false;
}

} // namespace

PlainRoutes::~PlainRoutes()
{
    qDeleteAll(m_routes);
    qDeleteAll(m_origins);
}

PlainRoute *PlainRoutes::find(const UpstreamRequest &request)
{
    PlainRoute *&route = m_routes[request.url];
    if (!route) {
        route = parse(request.url);
    }
    if (!route->usable) {
        return nullptr;
    }
    // Methods and headers curl treats specially stay with curl.
    if (request.method != "POST" && request.method != "GET") {
        return nullptr;
    }
    for (const QByteArray &line : request.headers) {
        const qsizetype colon = line.indexOf(':');
        if (colon <= 0 || line.contains('\r') || line.contains('\n')) {
            return nullptr;
        }
        const QByteArrayView name = QByteArrayView {line}.first(colon);
        if (equalsIgnoringCase(name, "host") || equalsIgnoringCase(name, "content-length") ||
            equalsIgnoringCase(name, "transfer-encoding") || equalsIgnoringCase(name, "connection") ||
            equalsIgnoringCase(name, "te") || equalsIgnoringCase(name, "upgrade") ||
            (equalsIgnoringCase(name, "expect") && !QByteArrayView {line}.sliced(colon + 1).trimmed().isEmpty())) {
            return nullptr;
        }
    }
    PlainOrigin &origin = *route->origin;
    if (origin.resolver) {
        // Until the first answer arrives, curl (with its own resolver) serves the requests.
        origin.resolver->refresh(origin.addresses);
        if (origin.addresses.empty()) {
            return nullptr;
        }
    }
    return route;
}

PlainRoute *PlainRoutes::parse(const QByteArray &urlText)
{
    auto *route = new PlainRoute;
    // http://host[:port][/path][?query]
    const QByteArrayView url {urlText};
    constexpr QByteArrayView scheme {"http://"};
    if (url.size() <= scheme.size() || url.first(scheme.size()) != scheme) {
        return route;
    }
    const QByteArrayView rest = url.sliced(scheme.size());
    qsizetype authorityEnd = 0;
    while (authorityEnd < rest.size() && rest[authorityEnd] != '/' && rest[authorityEnd] != '?' &&
           rest[authorityEnd] != '#') {
        ++authorityEnd;
    }
    const QByteArrayView authority = rest.first(authorityEnd);
    QByteArrayView target = rest.sliced(authorityEnd);
    QByteArrayView host;
    QByteArrayView port;
    bool ok = !authority.isEmpty() && !authority.contains('@');
    if (ok && authority.startsWith('[')) {
        const qsizetype close = authority.indexOf(']');
        ok = close > 1;
        if (ok) {
            host = authority.sliced(1, close - 1);
            const QByteArrayView after = authority.sliced(close + 1);
            ok = after.isEmpty() || after.startsWith(':');
            port = after.isEmpty() ? QByteArrayView {} : after.sliced(1);
        }
    } else if (ok) {
        const qsizetype colon = authority.indexOf(':');
        host = colon < 0 ? authority : authority.first(colon);
        port = colon < 0 ? QByteArrayView {} : authority.sliced(colon + 1);
    }
    int portNumber = 80;
    if (ok && !port.isEmpty()) {
        portNumber = 0;
        for (const char c : port) {
            ok = ok && c >= '0' && c <= '9' && portNumber < 65536;
            portNumber = portNumber * 10 + (c - '0');
        }
        ok = ok && port.size() <= 5 && portNumber > 0 && portNumber < 65536;
    }
    for (const char c : host) {
        // Lower-case host names and IP literals only: curl sends those unchanged.
        ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == ':');
    }
    ok = ok && !host.isEmpty();
    if (target.isEmpty()) {
        target = "/";
    }
    ok = ok && target.startsWith('/') && !hasDotSegment(target);
    for (const char c : target) {
        ok = ok && isPlainTargetChar(c);
    }
    if (!ok) {
        return route;
    }
    Address literal;
    bool isLiteral = false;
    auto *v4 = reinterpret_cast<sockaddr_in *>(&literal.storage);
    auto *v6 = reinterpret_cast<sockaddr_in6 *>(&literal.storage);
    const QByteArray hostText = host.toByteArray();
    if (::inet_pton(AF_INET, hostText.constData(), &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(static_cast<quint16>(portNumber));
        literal.length = sizeof(sockaddr_in);
        isLiteral = true;
    } else if (::inet_pton(AF_INET6, hostText.constData(), &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(static_cast<quint16>(portNumber));
        literal.length = sizeof(sockaddr_in6);
        isLiteral = true;
    } else if (host.contains(':')) {
        return route;
    }
    const bool ipv6 = host.contains(':');
    QByteArray hostPort = (ipv6 ? "[" + hostText + "]" : hostText);
    if (portNumber != 80) {
        hostPort += ':' + QByteArray::number(portNumber);
    }
    const QByteArray originKey = hostPort + (portNumber == 80 ? ":80" : "");
    PlainOrigin *&origin = m_origins[originKey];
    if (!origin) {
        origin = new PlainOrigin;
        origin->host = hostText;
        origin->port = static_cast<quint16>(portNumber);
        if (isLiteral) {
            origin->addresses.push_back(literal);
        } else {
            origin->resolver = std::make_unique<HostResolver>(origin->host, origin->port);
        }
    }
    route->usable = true;
    route->target = target.toByteArray();
    route->hostLine = "Host: " + hostPort + "\r\n";
    route->origin = origin;
    return route;
}

} // namespace Gateway::Upstream
