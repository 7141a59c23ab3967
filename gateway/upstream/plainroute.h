#pragma once

#include "hostresolver.h"
#include "upstreamrequest.h"

#include <QByteArray>
#include <QHash>

#include <memory>
#include <vector>

namespace Gateway::Upstream {

class PlainConnection;

// One upstream host and port of the built-in HTTP/1.1 client: its addresses and its idle
// keep-alive connections.
struct PlainOrigin {
    QByteArray host; // as in the URL (an IPv6 literal without brackets)
    quint16 port = 80;
    std::vector<Address> addresses;
    std::unique_ptr<HostResolver> resolver; // null for an IP literal
    std::vector<PlainConnection *> idle;    // most recently used last
};

// What the built-in client needs from one URL, parsed once.
struct PlainRoute {
    bool usable = false; // false: the URL needs curl
    QByteArray target;   // path and query, as sent on the request line
    QByteArray hostLine; // "Host: ...\r\n"
    PlainOrigin *origin = nullptr;
};

// Which requests the built-in client can send exactly as curl would, and where to: URLs
// are parsed once per URL, origins shared per host and port. Anything unusual (TLS, user
// info, a fragment, characters curl would re-encode, dot segments, a method or header
// curl treats specially, a host name not resolved yet) is left to curl.
class PlainRoutes final {
public:
    PlainRoutes() = default;
    ~PlainRoutes();
    PlainRoutes(const PlainRoutes &) = delete;
    PlainRoutes &operator=(const PlainRoutes &) = delete;

    // The route for `request`, or null when curl must serve it.
    PlainRoute *find(const UpstreamRequest &request);

    // Every origin, for closing their idle connections.
    const QHash<QByteArray, PlainOrigin *> &origins() const { return m_origins; }

private:
    PlainRoute *parse(const QByteArray &url);

    QHash<QByteArray, PlainRoute *> m_routes;   // by URL, owned
    QHash<QByteArray, PlainOrigin *> m_origins; // by "host:port", owned
};

} // namespace Gateway::Upstream
