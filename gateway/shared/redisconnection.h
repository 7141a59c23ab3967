#pragma once

#include "redisendpoint.h"

#include <QByteArray>
#include <QString>

#include <memory>
#include <vector>

struct redisContext;
struct redisReply;

namespace Gateway::Shared {

struct ReplyDeleter {
    void operator()(redisReply *reply) const;
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

// A Lua script and its SHA-1, which is how EVALSHA names it.
struct RedisScript {
    explicit RedisScript(QByteArray source);
    QByteArray source;
    QByteArray sha1; // lower-case hex
};

// One blocking hiredis connection with short timeouts: a command never holds its
// thread longer than the command timeout (the connect timeout for connecting). Used by
// one thread at a time (each data-plane worker owns its own). Once an I/O error or a
// timeout happened the connection is broken for good: hiredis cannot tell whether the
// server applied the command, and a late reply would answer the next one.
class RedisConnection final {
public:
    struct Timeouts {
        int connectMs = 50;
        int commandMs = 20;
    };

    // Connects, authenticates and selects the database; null and `error` on failure.
    static std::unique_ptr<RedisConnection> open(const RedisEndpoint &endpoint, Timeouts timeouts, QString &error);
    ~RedisConnection();
    RedisConnection(const RedisConnection &) = delete;
    RedisConnection &operator=(const RedisConnection &) = delete;

    // Null when the connection broke (then broken() is true and lastError() says why);
    // an error reply from the server is a reply, not a broken connection.
    ReplyPtr command(const std::vector<QByteArray> &arguments);
    // EVALSHA, loading the script (SCRIPT LOAD) when the server does not know it: after a
    // restart, a flush, or on first use.
    ReplyPtr evalScript(const RedisScript &script, const std::vector<QByteArray> &keys,
                        const std::vector<QByteArray> &arguments);

    bool broken() const { return m_broken; }
    const QString &lastError() const { return m_lastError; }

private:
    explicit RedisConnection(redisContext *context) : m_context {context} {}

    redisContext *m_context = nullptr;
    bool m_broken = false;
    QString m_lastError;
};

// Whether a reply is a server error (REDIS_REPLY_ERROR); its text in `message`.
bool isErrorReply(const redisReply *reply, QByteArray *message = nullptr);

} // namespace Gateway::Shared
