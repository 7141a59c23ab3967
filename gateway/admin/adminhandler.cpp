#include "adminhandler.h"

#include "proxy/errorresponse.h"

#include <QCryptographicHash>
#include <QUrlQuery>

#include <algorithm>

namespace Gateway::Admin {

namespace {

constexpr QByteArrayView PREFIX = "/admin/v1/";

// Destroying it (client gone) makes a late reply a no-op.
class PendingReply final : public Http::Exchange {
public:
    std::shared_ptr<bool> alive = std::make_shared<bool>(true);
};

void respond(Http::ResponseWriter &writer, const QByteArray &requestId, const AdminReply &reply,
             const Http::HeaderList &extra = {})
{
    Http::HeaderList headers {{"content-type", reply.contentType}, {"x-switchyard-request-id", requestId},
                              {"cache-control", "no-store"}};
    headers.insert(headers.end(), extra.begin(), extra.end());
    writer.respond(reply.status, headers, reply.body);
}

AdminReply error(int status, const QByteArray &message, const QByteArray &code, const QByteArray &param = {})
{
    Proxy::ErrorInfo info;
    info.status = status;
    info.message = message;
    info.code = code;
    info.param = param;
    return {status, "application/json", Proxy::errorBody(Proxy::ErrorShape::OpenAi, info)};
}

QByteArray bearerToken(const Http::Request &request)
{
    const QByteArray authorization = request.header("authorization");
    if (authorization.size() > 7 && authorization.first(7).toLower() == "bearer ") {
        return authorization.sliced(7).trimmed();
    }
    return {};
}

// Reads an integer query parameter; false (and an error reply) if present but invalid.
bool integerParam(const QUrlQuery &query, const char *name, qint64 &out, AdminReply &failure)
{
    const QString key = QString::fromLatin1(name);
    if (!query.hasQueryItem(key)) {
        return true;
    }
    bool ok = false;
    out = query.queryItemValue(key).toLongLong(&ok);
    if (!ok || out < 0) {
        failure = error(400, "query parameter '" + QByteArray(name) + "' must be a non-negative integer",
                        "invalid_parameter", name);
        return false;
    }
    return true;
}

bool isSha256Hex(const QByteArray &text)
{
    return text.size() == 64 && std::all_of(text.begin(), text.end(), [](char c) {
               return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
           });
}

} // namespace

bool tokenMatches(QByteArrayView presented, const QByteArray &digest)
{
    if (digest.size() != 32) {
        return false;
    }
    const QByteArray candidate = QCryptographicHash::hash(presented, QCryptographicHash::Sha256);
    unsigned char difference = 0;
    for (qsizetype i = 0; i < 32; ++i) {
        difference |= static_cast<unsigned char>(candidate[i] ^ digest[i]);
    }
    return difference == 0;
}

AdminHandler::AdminHandler(AdminService *service, QObject &threadContext, std::function<QByteArray()> stateJson,
                           Explainer explainer)
    : m_service {service}
    , m_threadContext {&threadContext}
    , m_stateJson {std::move(stateJson)}
    , m_explainer {std::move(explainer)}
{
}

bool isLoopbackPeer(const QHostAddress &peer)
{
    bool mapped = false;
    const quint32 v4 = peer.toIPv4Address(&mapped);
    if (mapped) {
        return (v4 >> 24) == 127;
    }
    return peer.isLoopback();
}

std::unique_ptr<Http::Exchange> AdminHandler::handle(Http::Request &&request, Http::ResponseWriter &writer,
                                                     const Access &access, const QByteArray &requestId)
{
    // Checked before the token, so a remote peer cannot even probe it.
    if (!access.allowRemote && !isLoopbackPeer(request.peer)) {
        respond(writer, requestId,
                error(403, "the admin API only answers on loopback (127.0.0.1, ::1); set gateway.admin_allow_remote "
                           "to allow other peers",
                      "admin_remote_forbidden"));
        return nullptr;
    }
    const QByteArray &tokenDigest = access.tokenDigest;
    const Http::HeaderList challenge {{"www-authenticate", "Bearer realm=\"switchyard-admin\""}};
    if (tokenDigest.isEmpty()) {
        respond(writer, requestId,
                error(401, "the admin API has no token configured and stays closed; set gateway.admin_token",
                      "admin_token_not_configured"),
                challenge);
        return nullptr;
    }
    const QByteArray token = bearerToken(request);
    if (token.isEmpty()) {
        respond(writer, requestId,
                error(401, "missing admin token: send 'Authorization: Bearer <admin token>'", "missing_admin_token"),
                challenge);
        return nullptr;
    }
    if (!tokenMatches(token, tokenDigest)) {
        respond(writer, requestId, error(401, "invalid admin token", "invalid_admin_token"), challenge);
        return nullptr;
    }
    return dispatch(request, writer, requestId);
}

std::unique_ptr<Http::Exchange> AdminHandler::async(Http::ResponseWriter &writer, const QByteArray &requestId,
                                                    const std::function<void(ReplyCallback)> &call)
{
    if (!m_service) {
        respond(writer, requestId, error(503, "the policy store is not available in this process", "store_unavailable"));
        return nullptr;
    }
    auto pending = std::make_unique<PendingReply>();
    const std::weak_ptr<bool> alive = pending->alive;
    Http::ResponseWriter *target = &writer;
    QPointer<QObject> context = m_threadContext;
    call([alive, target, context, requestId](AdminReply reply) {
        if (!context) {
            return;
        }
        // Back to the worker thread that owns the connection before touching it.
        QMetaObject::invokeMethod(
            context.data(),
            [alive, target, requestId, reply = std::move(reply)] {
                if (alive.lock()) {
                    respond(*target, requestId, reply);
                }
            },
            Qt::QueuedConnection);
    });
    return pending;
}

std::unique_ptr<Http::Exchange> AdminHandler::dispatch(const Http::Request &request, Http::ResponseWriter &writer,
                                                       const QByteArray &requestId)
{
    const QByteArray path = request.path.sliced(PREFIX.size());
    const QByteArray &method = request.method;
    const QUrlQuery query {QString::fromUtf8(request.query)};
    const bool wantsYaml = request.header("accept").contains("yaml");
    const auto notAllowed = [&](const QByteArray &allowed) {
        AdminReply reply = error(405, "method " + method + " is not allowed on " + request.path, "method_not_allowed");
        respond(writer, requestId, reply, {{"allow", allowed}});
        return nullptr;
    };
    QString author = QString::fromUtf8(request.header("x-switchyard-author"));
    if (author.isEmpty()) {
        author = QStringLiteral("admin-api");
    }
    QString comment = query.queryItemValue(QStringLiteral("comment"), QUrl::FullyDecoded);
    if (comment.isEmpty()) {
        comment = QString::fromUtf8(request.header("x-switchyard-comment"));
    }

    if (path == "policy") {
        if (method == "GET") {
            return async(writer, requestId, [this, wantsYaml](ReplyCallback reply) { m_service->getPolicy(wantsYaml, std::move(reply)); });
        }
        if (method == "PUT") {
            const QString dryRun = query.queryItemValue(QStringLiteral("dry_run"));
            const bool validateOnly = dryRun == u"1" || dryRun == u"true";
            return async(writer, requestId, [this, body = request.body, validateOnly, author, comment](ReplyCallback reply) {
                m_service->putPolicy(body, validateOnly, author, comment, std::move(reply));
            });
        }
        return notAllowed("GET, PUT");
    }
    if (path == "explain") {
        if (method != "POST") {
            return notAllowed("POST");
        }
        respond(writer, requestId,
                m_explainer ? m_explainer(request) : error(503, "explain is not available here", "explain_unavailable"));
        return nullptr;
    }
    if (path == "state") {
        if (method != "GET") {
            return notAllowed("GET");
        }
        respond(writer, requestId, {200, "application/json", m_stateJson ? m_stateJson() : QByteArray("{}")});
        return nullptr;
    }
    if (path == "versions/diff") {
        if (method != "GET") {
            return notAllowed("GET");
        }
        qint64 from = 0;
        qint64 to = 0;
        AdminReply failure;
        if (!integerParam(query, "from", from, failure) || !integerParam(query, "to", to, failure)) {
            respond(writer, requestId, failure);
            return nullptr;
        }
        if (from == 0 || to == 0) {
            respond(writer, requestId, error(400, "both 'from' and 'to' version ids are required", "missing_parameter",
                                             from == 0 ? "from" : "to"));
            return nullptr;
        }
        return async(writer, requestId, [this, from, to](ReplyCallback reply) { m_service->diffVersions(from, to, std::move(reply)); });
    }
    if (path == "versions") {
        if (method != "GET") {
            return notAllowed("GET");
        }
        qint64 limit = 50;
        qint64 before = 0;
        AdminReply failure;
        if (!integerParam(query, "limit", limit, failure) || !integerParam(query, "before", before, failure)) {
            respond(writer, requestId, failure);
            return nullptr;
        }
        return async(writer, requestId, [this, limit, before](ReplyCallback reply) {
            m_service->listVersions(static_cast<int>(std::clamp<qint64>(limit, 1, 1000)), before, std::move(reply));
        });
    }
    if (path.startsWith("versions/")) {
        QByteArray rest = path.sliced(9);
        const bool isRollback = rest.endsWith("/rollback");
        if (isRollback) {
            rest.chop(9);
        }
        bool ok = false;
        const qint64 id = rest.toLongLong(&ok);
        if (!ok || id <= 0) {
            respond(writer, requestId, error(404, "no such admin endpoint: " + request.path, "unknown_url"));
            return nullptr;
        }
        if (isRollback) {
            if (method != "POST") {
                return notAllowed("POST");
            }
            return async(writer, requestId, [this, id, author, comment](ReplyCallback reply) {
                m_service->rollback(id, author, comment, std::move(reply));
            });
        }
        if (method != "GET") {
            return notAllowed("GET");
        }
        return async(writer, requestId, [this, id, wantsYaml](ReplyCallback reply) { m_service->getVersion(id, wantsYaml, std::move(reply)); });
    }
    if (path == "keys") {
        if (method == "GET") {
            return async(writer, requestId, [this](ReplyCallback reply) { m_service->listKeys(std::move(reply)); });
        }
        if (method == "POST") {
            return async(writer, requestId, [this, body = request.body, author](ReplyCallback reply) {
                m_service->createKey(body, author, std::move(reply));
            });
        }
        return notAllowed("GET, POST");
    }
    if (path.startsWith("keys/")) {
        if (method != "DELETE") {
            return notAllowed("DELETE");
        }
        const QString name = QUrl::fromPercentEncoding(path.sliced(5));
        return async(writer, requestId, [this, name, author](ReplyCallback reply) { m_service->deleteKey(name, author, std::move(reply)); });
    }
    if (path == "requests") {
        if (method != "GET") {
            return notAllowed("GET");
        }
        RequestFilter filter;
        qint64 status = 0;
        qint64 limit = 100;
        AdminReply failure;
        if (!integerParam(query, "since", filter.sinceMs, failure) || !integerParam(query, "until", filter.untilMs, failure) ||
            !integerParam(query, "status", status, failure) || !integerParam(query, "limit", limit, failure) ||
            !integerParam(query, "cursor", filter.cursor, failure)) {
            respond(writer, requestId, failure);
            return nullptr;
        }
        filter.status = static_cast<int>(status);
        filter.limit = static_cast<int>(std::clamp<qint64>(limit, 1, 1000));
        filter.route = query.queryItemValue(QStringLiteral("route"), QUrl::FullyDecoded).toUtf8();
        filter.virtualKey = query.queryItemValue(QStringLiteral("key"), QUrl::FullyDecoded);
        return async(writer, requestId, [this, filter](ReplyCallback reply) { m_service->listRequests(filter, std::move(reply)); });
    }
    if (path == "events") {
        if (method != "GET") {
            return notAllowed("GET");
        }
        qint64 since = 0;
        qint64 limit = 100;
        AdminReply failure;
        if (!integerParam(query, "since", since, failure) || !integerParam(query, "limit", limit, failure)) {
            respond(writer, requestId, failure);
            return nullptr;
        }
        const QString kind = query.queryItemValue(QStringLiteral("kind"), QUrl::FullyDecoded);
        return async(writer, requestId, [this, since, kind, limit](ReplyCallback reply) {
            m_service->listEvents(since, kind, static_cast<int>(std::clamp<qint64>(limit, 1, 1000)), std::move(reply));
        });
    }
    if (path == "audit") {
        if (method != "GET") {
            return notAllowed("GET");
        }
        qint64 since = 0;
        qint64 limit = 100;
        qint64 cursor = 0;
        AdminReply failure;
        if (!integerParam(query, "since", since, failure) || !integerParam(query, "limit", limit, failure) ||
            !integerParam(query, "cursor", cursor, failure)) {
            respond(writer, requestId, failure);
            return nullptr;
        }
        return async(writer, requestId, [this, since, limit, cursor](ReplyCallback reply) {
            m_service->listAudit(since, static_cast<int>(std::clamp<qint64>(limit, 1, 1000)), cursor, std::move(reply));
        });
    }
    if (path == "audit/verify") {
        if (method != "GET") {
            return notAllowed("GET");
        }
        const QByteArray anchor = query.queryItemValue(QStringLiteral("anchor"), QUrl::FullyDecoded).toLatin1();
        if (!anchor.isEmpty() && !isSha256Hex(anchor)) {
            respond(writer, requestId, error(400, "query parameter 'anchor' must be a SHA-256 hash in hex (64 characters)",
                                             "invalid_parameter", "anchor"));
            return nullptr;
        }
        return async(writer, requestId, [this, anchor](ReplyCallback reply) { m_service->verifyAudit(anchor, std::move(reply)); });
    }
    if (path == "spend") {
        if (method != "GET") {
            return notAllowed("GET");
        }
        SpendFilter filter;
        AdminReply failure;
        if (!integerParam(query, "since", filter.sinceMs, failure) || !integerParam(query, "until", filter.untilMs, failure)) {
            respond(writer, requestId, failure);
            return nullptr;
        }
        if (query.hasQueryItem(QStringLiteral("group_by"))) {
            filter.groupBy = query.queryItemValue(QStringLiteral("group_by"), QUrl::FullyDecoded).toUtf8();
        }
        if (filter.groupBy != "key" && filter.groupBy != "team" && filter.groupBy != "route" && filter.groupBy != "day") {
            respond(writer, requestId,
                    error(400, "query parameter 'group_by' must be key, team, route or day, not '" + filter.groupBy + "'",
                          "invalid_parameter", "group_by"));
            return nullptr;
        }
        filter.virtualKey = query.queryItemValue(QStringLiteral("key"), QUrl::FullyDecoded);
        filter.team = query.queryItemValue(QStringLiteral("team"), QUrl::FullyDecoded);
        filter.route = query.queryItemValue(QStringLiteral("route"), QUrl::FullyDecoded).toUtf8();
        return async(writer, requestId, [this, filter](ReplyCallback reply) { m_service->spend(filter, std::move(reply)); });
    }
    respond(writer, requestId, error(404, "no such admin endpoint: " + request.path, "unknown_url"));
    return nullptr;
}

void AdminService::spend(SpendFilter, ReplyCallback reply)
{
    reply({503, "application/json",
           "{\"error\":{\"message\":\"this gateway keeps no spend journal\",\"type\":\"api_error\",\"param\":null,"
           "\"code\":\"spend_unavailable\"}}"});
}

} // namespace Gateway::Admin
