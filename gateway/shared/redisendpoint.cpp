#include "redisendpoint.h"

#include <QUrl>

#include <netdb.h>
#include <sys/socket.h>

#include <array>

namespace Gateway::Shared {

QString RedisEndpoint::display() const
{
    const QString shownHost = host.contains(u':') ? u'[' + host + u']' : host;
    return QStringLiteral("redis://%1:%2/%3").arg(shownHost).arg(port).arg(database);
}

Expected<RedisEndpoint, QString> parseRedisUrl(const QString &url, const QByteArray &passwordFromEnvironment)
{
    const QUrl parsed {url, QUrl::StrictMode};
    // The message never repeats the URL: it may hold a password.
    if (!parsed.isValid() || parsed.scheme() != u"redis" || parsed.host().isEmpty()) {
        return Unexpected<QString> {QStringLiteral("--redis expects redis://[:password@]host[:port][/db]")};
    }
    RedisEndpoint endpoint;
    endpoint.host = parsed.host();
    const int port = parsed.port(6379);
    if (port <= 0 || port > 65535) {
        return Unexpected<QString> {QStringLiteral("--redis: port must be 1-65535")};
    }
    endpoint.port = static_cast<quint16>(port);
    QString path = parsed.path();
    if (path.startsWith(u'/')) {
        path.remove(0, 1);
    }
    if (!path.isEmpty()) {
        bool ok = false;
        endpoint.database = path.toInt(&ok);
        if (!ok || endpoint.database < 0 || endpoint.database > 15'000) {
            return Unexpected<QString> {QStringLiteral("--redis: the path must be a database number, e.g. /0")};
        }
    }
    endpoint.username = parsed.userName(QUrl::FullyDecoded).toUtf8();
    endpoint.password = parsed.password(QUrl::FullyDecoded).toUtf8();
    if (endpoint.password.isEmpty()) {
        endpoint.password = passwordFromEnvironment;
    }
    return endpoint;
}

// The first address of `host` in numeric form (the host itself if it is one, or if it
// does not resolve: connecting then fails with hiredis's message).
QString numericHost(const QString &host)
{
    addrinfo hints {};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo *found = nullptr;
    if (getaddrinfo(host.toUtf8().constData(), nullptr, &hints, &found) != 0 || !found) {
        return host;
    }
    std::array<char, NI_MAXHOST> text {};
    const int failed = getnameinfo(found->ai_addr, found->ai_addrlen, text.data(), static_cast<socklen_t>(text.size()),
                                   nullptr, 0, NI_NUMERICHOST);
    freeaddrinfo(found);
    return failed ? host : QString::fromLatin1(text.data());
}

} // namespace Gateway::Shared
