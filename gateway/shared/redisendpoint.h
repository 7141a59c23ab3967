#pragma once

#include "util/expected.h"

#include <QByteArray>
#include <QString>

namespace Gateway::Shared {

// Where the shared limit state lives: `redis://[[user]:password@]host[:port][/db]`.
// The password may also come from SWITCHYARD_REDIS_PASSWORD, so it need not appear on a
// command line (and in `ps`); display() never contains it.
struct RedisEndpoint {
    QString host;
    quint16 port = 6379;
    int database = 0;
    QByteArray username; // empty = the default user (AUTH with the password only)
    QByteArray password; // empty = no AUTH

    QString display() const;
};

// The first address of `host` in numeric form (the host itself if it is one, or if it
// does not resolve). Blocking DNS: called on a store's own thread, so the workers that
// connect later never wait on a resolver.
QString numericHost(const QString &host);

// `passwordFromEnvironment` is used when the URL carries none.
Expected<RedisEndpoint, QString> parseRedisUrl(const QString &url, const QByteArray &passwordFromEnvironment = {});

} // namespace Gateway::Shared
