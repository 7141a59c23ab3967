#include "redisconnection.h"

#include <QCryptographicHash>

#include <hiredis/hiredis.h>

#include <sys/time.h>

namespace Gateway::Shared {

namespace {

timeval toTimeval(int ms)
{
    timeval tv {};
    tv.tv_sec = ms / 1000;
    tv.tv_usec = static_cast<suseconds_t>((ms % 1000) * 1000);
    return tv;
}

} // namespace

void ReplyDeleter::operator()(redisReply *reply) const
{
    freeReplyObject(reply);
}

RedisScript::RedisScript(QByteArray text)
    : source {std::move(text)}
    , sha1 {QCryptographicHash::hash(source, QCryptographicHash::Sha1).toHex()}
{
}

bool isErrorReply(const redisReply *reply, QByteArray *message)
{
    if (!reply || reply->type != REDIS_REPLY_ERROR) {
        return false;
    }
    if (message) {
        *message = QByteArray(reply->str, static_cast<qsizetype>(reply->len));
    }
    return true;
}

std::unique_ptr<RedisConnection> RedisConnection::open(const RedisEndpoint &endpoint, Timeouts timeouts, QString &error)
{
    redisContext *context =
        redisConnectWithTimeout(endpoint.host.toUtf8().constData(), endpoint.port, toTimeval(timeouts.connectMs));
    if (!context) {
        error = QStringLiteral("out of memory");
        return nullptr;
    }
    std::unique_ptr<RedisConnection> connection {new RedisConnection(context)};
    if (context->err) {
        error = QString::fromLocal8Bit(context->errstr);
        return nullptr;
    }
    if (redisSetTimeout(context, toTimeval(timeouts.commandMs)) != REDIS_OK) {
        error = QStringLiteral("cannot set the command timeout");
        return nullptr;
    }
    const auto expectOk = [&connection, &error](const std::vector<QByteArray> &arguments, const QString &what) {
        ReplyPtr reply = connection->command(arguments);
        QByteArray message;
        if (!reply) {
            error = connection->lastError();
            return false;
        }
        if (isErrorReply(reply.get(), &message)) {
            error = what + QStringLiteral(": ") + QString::fromUtf8(message);
            return false;
        }
        return true;
    };
    if (!endpoint.password.isEmpty()) {
        std::vector<QByteArray> auth {QByteArrayLiteral("AUTH")};
        if (!endpoint.username.isEmpty()) {
            auth.push_back(endpoint.username);
        }
        auth.push_back(endpoint.password);
        if (!expectOk(auth, QStringLiteral("AUTH"))) {
            return nullptr;
        }
    }
    if (endpoint.database != 0 &&
        !expectOk({QByteArrayLiteral("SELECT"), QByteArray::number(endpoint.database)}, QStringLiteral("SELECT"))) {
        return nullptr;
    }
    return connection;
}

RedisConnection::~RedisConnection()
{
    redisFree(m_context);
}

ReplyPtr RedisConnection::command(const std::vector<QByteArray> &arguments)
{
    if (m_broken) {
        return nullptr;
    }
    std::vector<const char *> argv;
    std::vector<size_t> lengths;
    argv.reserve(arguments.size());
    lengths.reserve(arguments.size());
    for (const QByteArray &argument : arguments) {
        argv.push_back(argument.constData());
        lengths.push_back(static_cast<size_t>(argument.size()));
    }
    void *raw = redisCommandArgv(m_context, static_cast<int>(argv.size()), argv.data(), lengths.data());
    if (!raw) {
        m_broken = true;
        m_lastError = m_context->errstr[0] ? QString::fromLocal8Bit(m_context->errstr) : QStringLiteral("connection lost");
        return nullptr;
    }
    return ReplyPtr {static_cast<redisReply *>(raw)};
}

ReplyPtr RedisConnection::evalScript(const RedisScript &script, const std::vector<QByteArray> &keys,
                                     const std::vector<QByteArray> &arguments)
{
    std::vector<QByteArray> call;
    call.reserve(3 + keys.size() + arguments.size());
    call.push_back(QByteArrayLiteral("EVALSHA"));
    call.push_back(script.sha1);
    call.push_back(QByteArray::number(static_cast<qulonglong>(keys.size())));
    call.insert(call.end(), keys.begin(), keys.end());
    call.insert(call.end(), arguments.begin(), arguments.end());
    ReplyPtr reply = command(call);
    QByteArray message;
    if (!isErrorReply(reply.get(), &message) || !message.startsWith("NOSCRIPT")) {
        return reply;
    }
    ReplyPtr loaded = command({QByteArrayLiteral("SCRIPT"), QByteArrayLiteral("LOAD"), script.source});
    if (!loaded || isErrorReply(loaded.get())) {
        return loaded;
    }
    return command(call);
}

} // namespace Gateway::Shared
