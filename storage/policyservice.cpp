#include "policyservice.h"

#include "auditjson.h"
#include "database.h"
#include "runtime/eventkinds.h"
#include "spendreader.h"
#include "governance/limits.h"

#include "logreader.h"
#include "policyrepository.h"
#include "policyversionstore.h"
#include "storeworker.h"
#include "textdiff.h"
#include "util/cryptothreadstate.h"

#include "config/policyloader.h"
#include "config/policywriter.h"
#include "config/secretmerge.h"
#include "proxy/errorresponse.h"

#include <QCryptographicHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRandomGenerator>
#include <QThread>

namespace Storage {

namespace {

using Gateway::Admin::AdminReply;
using Gateway::Admin::ReplyCallback;
using Gateway::Config::Policy;
using Gateway::Config::SecretRendering;

AdminReply json(int status, const QJsonObject &object)
{
    return {status, "application/json", QJsonDocument(object).toJson(QJsonDocument::Compact)};
}

AdminReply failure(int status, const QByteArray &message, const QByteArray &code, const QByteArray &param = {})
{
    Gateway::Proxy::ErrorInfo info;
    info.status = status;
    info.message = message;
    info.code = code;
    info.param = param;
    return {status, "application/json", Gateway::Proxy::errorBody(Gateway::Proxy::ErrorShape::OpenAi, info)};
}

AdminReply storeFailure(const QString &message)
{
    return failure(500, "the policy store failed: " + message.toUtf8(), "store_error");
}

AdminReply policyDocument(const Policy &policy, bool asYaml, qint64 versionId)
{
    if (asYaml) {
        QByteArray body = "# policy version " + QByteArray::number(versionId) + '\n';
        body += Gateway::Config::toYaml(policy, SecretRendering::Redacted);
        return {200, "application/yaml", body};
    }
    return {200, "application/json", Gateway::Config::toJson(policy, SecretRendering::Redacted)};
}

QJsonObject versionJson(const StoredVersion &version, std::optional<qint64> active)
{
    return {{QStringLiteral("id"), version.id},
            {QStringLiteral("created_at_ms"), version.createdAtMs},
            {QStringLiteral("author"), version.author},
            {QStringLiteral("comment"), version.comment},
            {QStringLiteral("content_hash"), QString::fromLatin1(version.contentHash)},
            {QStringLiteral("active"), active && *active == version.id}};
}

QJsonObject keyJson(const Gateway::Config::VirtualKey &key)
{
    QJsonArray routes;
    for (const auto &route : key.routes) {
        routes.append(route);
    }
    return {{QStringLiteral("name"), key.name}, {QStringLiteral("key"), QStringLiteral("***")},
            {QStringLiteral("routes"), routes}};
}

QByteArray newVirtualKey()
{
    QByteArray random(24, Qt::Uninitialized);
    QRandomGenerator::system()->generate(reinterpret_cast<quint32 *>(random.data()),
                                         reinterpret_cast<quint32 *>(random.data() + random.size()));
    return "sk-sy-" + random.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals);
}

Gateway::Config::EnvLookup environment()
{
    return Gateway::Config::processEnvironment();
}

} // namespace

Gateway::Expected<std::unique_ptr<PolicyService>, QString> PolicyService::start(Options options)
{
    std::unique_ptr<PolicyService> service {new PolicyService};
    service->m_thread = std::make_unique<QThread>();
    service->m_thread->setObjectName(QStringLiteral("store"));
    Gateway::releaseCryptoStateOnFinish(*service->m_thread); // the worker seals and opens secrets
    service->m_worker = new StoreWorker(options.log, std::move(options.apply), options.watchIntervalMs);
    service->m_worker->moveToThread(service->m_thread.get());
    service->m_thread->start();
    Gateway::Expected<bool, QString> opened = true;
    service->run([&opened, &options](StoreWorker &worker) { opened = worker.open(options.dataDirectory); });
    if (!opened) {
        return Gateway::Unexpected {opened.error()};
    }
    return service;
}

PolicyService::~PolicyService()
{
    if (m_worker) {
        StoreWorker *worker = m_worker;
        QMetaObject::invokeMethod(worker, [worker] { delete worker; }, Qt::BlockingQueuedConnection);
    }
    if (m_thread) {
        m_thread->quit();
        m_thread->wait();
    }
}

void PolicyService::post(std::function<void(StoreWorker &)> work)
{
    StoreWorker *worker = m_worker;
    QMetaObject::invokeMethod(worker, [worker, work = std::move(work)] { work(*worker); }, Qt::QueuedConnection);
}

void PolicyService::run(std::function<void(StoreWorker &)> work)
{
    StoreWorker *worker = m_worker;
    QMetaObject::invokeMethod(worker, [worker, &work] { work(*worker); }, Qt::BlockingQueuedConnection);
}

Gateway::Expected<PolicyService::Bootstrap, QString> PolicyService::bootstrap(const std::optional<Policy> &configured,
                                                                              const QString &source)
{
    Gateway::Expected<Bootstrap, QString> result = Bootstrap {};
    run([&](StoreWorker &worker) {
        Bootstrap boot;
        if (configured) {
            bool created = false;
            auto id = worker.repository().saveAndActivate(*configured, QStringLiteral("config-file"),
                                                          QStringLiteral("imported from %1").arg(source),
                                                          AuditAction::POLICY_BOOTSTRAP);
            if (!id) {
                result = Gateway::Unexpected {id.error()};
                return;
            }
            created = id->created;
            if (created) {
                worker.recordEvent(QString(Gateway::EventKinds::POLICY_APPLIED), QStringLiteral("version %1").arg(id->versionId),
                                   QJsonDocument(QJsonObject {{QStringLiteral("version"), id->versionId},
                                                              {QStringLiteral("source"), source}})
                                       .toJson(QJsonDocument::Compact));
            }
            boot.imported = created;
        }
        const auto active = worker.repository().activeVersionId();
        if (active) {
            auto policy = worker.repository().load(*active);
            if (!policy) {
                result = Gateway::Unexpected {policy.error()};
                return;
            }
            boot.policy = std::move(policy).value();
            boot.versionId = *active;
        }
        result = boot;
    });
    return result;
}

Gateway::Expected<qint64, QString> PolicyService::importPolicy(const Policy &policy, const QString &author,
                                                               const QString &comment, bool &created)
{
    Gateway::Expected<qint64, QString> result = qint64 {0};
    run([&](StoreWorker &worker) {
        result = worker.applyPolicy(policy, author, comment, AuditAction::POLICY_IMPORT, {}, created);
    });
    return result;
}

Gateway::Expected<Policy, QString> PolicyService::activePolicy()
{
    Gateway::Expected<Policy, QString> result = Policy {};
    run([&](StoreWorker &worker) { result = worker.activePolicy(); });
    return result;
}

void PolicyService::getPolicy(bool asYaml, ReplyCallback reply)
{
    post([asYaml, reply = std::move(reply)](StoreWorker &worker) {
        auto policy = worker.activePolicy();
        if (!policy) {
            reply(storeFailure(policy.error()));
            return;
        }
        reply(policyDocument(policy.value(), asYaml, worker.repository().activeVersionId().value_or(0)));
    });
}

void PolicyService::putPolicy(QByteArray document, bool dryRun, QString author, QString comment, ReplyCallback reply)
{
    post([document = std::move(document), dryRun, author = std::move(author), comment = std::move(comment),
          reply = std::move(reply)](StoreWorker &worker) {
        auto parsed = Gateway::Config::parsePolicy(document, QStringLiteral("request body"), environment());
        if (!parsed) {
            const auto &error = parsed.error();
            reply(failure(400, error.toString().toUtf8(), "invalid_policy", error.field.toUtf8()));
            return;
        }
        auto stored = worker.activePolicy();
        if (!stored) {
            reply(storeFailure(stored.error()));
            return;
        }
        auto resolved = Gateway::Config::resolveRedactedSecrets(std::move(parsed).value(), stored.value());
        if (!resolved) {
            const auto &error = resolved.error();
            reply(failure(400, error.toString().toUtf8(), "invalid_policy", error.field.toUtf8()));
            return;
        }
        const Policy &policy = resolved.value();
        const bool restartNeeded = policy.gateway.listenHost != stored->gateway.listenHost ||
                                   policy.gateway.listenPort != stored->gateway.listenPort ||
                                   policy.gateway.threads != stored->gateway.threads ||
                                   policy.gateway.tlsCertFile != stored->gateway.tlsCertFile ||
                                   policy.gateway.tlsKeyFile != stored->gateway.tlsKeyFile;
        if (dryRun) {
            reply(json(200, {{QStringLiteral("valid"), true},
                             {QStringLiteral("changed"), worker.repository().differsFromActive(policy)},
                             {QStringLiteral("restart_required"), restartNeeded}}));
            return;
        }
        bool created = false;
        auto id = worker.applyPolicy(policy, author, comment, AuditAction::POLICY_APPLY, {}, created);
        if (!id) {
            reply(storeFailure(id.error()));
            return;
        }
        reply(json(200, {{QStringLiteral("version"), id.value()},
                         {QStringLiteral("created"), created},
                         {QStringLiteral("restart_required"), restartNeeded}}));
    });
}

void PolicyService::listVersions(int limit, qint64 beforeId, ReplyCallback reply)
{
    post([limit, beforeId, reply = std::move(reply)](StoreWorker &worker) {
        const auto active = worker.repository().activeVersionId();
        const auto versions = worker.repository().versions().versions(limit, beforeId);
        QJsonArray data;
        for (const auto &version : versions) {
            data.append(versionJson(version, active));
        }
        QJsonObject body {{QStringLiteral("data"), data}};
        body.insert(QStringLiteral("next_before"),
                    versions.size() == limit && !versions.isEmpty() ? QJsonValue(versions.constLast().id) : QJsonValue());
        reply(json(200, body));
    });
}

void PolicyService::getVersion(qint64 id, bool asYaml, ReplyCallback reply)
{
    post([id, asYaml, reply = std::move(reply)](StoreWorker &worker) {
        const auto version = worker.repository().versions().version(id);
        if (!version) {
            reply(failure(404, "policy version " + QByteArray::number(id) + " does not exist", "version_not_found"));
            return;
        }
        auto policy = worker.repository().load(id);
        if (!policy) {
            reply(storeFailure(policy.error()));
            return;
        }
        if (asYaml) {
            reply(policyDocument(policy.value(), true, id));
            return;
        }
        QJsonObject body = versionJson(*version, worker.repository().activeVersionId());
        body.insert(QStringLiteral("document"),
                    QJsonDocument::fromJson(Gateway::Config::toJson(policy.value(), SecretRendering::Redacted)).object());
        reply(json(200, body));
    });
}

void PolicyService::diffVersions(qint64 fromId, qint64 toId, ReplyCallback reply)
{
    post([fromId, toId, reply = std::move(reply)](StoreWorker &worker) {
        auto from = worker.repository().load(fromId);
        auto to = worker.repository().load(toId);
        if (!from || !to) {
            const qint64 missing = !from ? fromId : toId;
            reply(failure(404, "policy version " + QByteArray::number(missing) + " does not exist", "version_not_found",
                          !from ? "from" : "to"));
            return;
        }
        const QByteArray diff =
            unifiedDiff(Gateway::Config::toYaml(from.value(), SecretRendering::Redacted),
                        Gateway::Config::toYaml(to.value(), SecretRendering::Redacted),
                        "version " + QByteArray::number(fromId), "version " + QByteArray::number(toId));
        reply(json(200, {{QStringLiteral("from"), fromId},
                         {QStringLiteral("to"), toId},
                         {QStringLiteral("identical"), diff.isEmpty()},
                         {QStringLiteral("diff"), QString::fromUtf8(diff)}}));
    });
}

void PolicyService::rollback(qint64 id, QString author, QString comment, ReplyCallback reply)
{
    post([id, author = std::move(author), comment = std::move(comment), reply = std::move(reply)](StoreWorker &worker) {
        if (!worker.repository().versions().version(id)) {
            reply(failure(404, "policy version " + QByteArray::number(id) + " does not exist", "version_not_found"));
            return;
        }
        auto activated = worker.activateVersion(id, author, comment.isEmpty() ? QStringLiteral("rollback") : comment);
        if (!activated) {
            reply(storeFailure(activated.error()));
            return;
        }
        reply(json(200, {{QStringLiteral("active_version"), id}}));
    });
}

void PolicyService::createKey(QByteArray body, QString author, ReplyCallback reply)
{
    post([body = std::move(body), author = std::move(author), reply = std::move(reply)](StoreWorker &worker) {
        QJsonParseError parseError {};
        const QJsonObject request = QJsonDocument::fromJson(body, &parseError).object();
        if (parseError.error != QJsonParseError::NoError) {
            reply(failure(400, "the request body must be a JSON object: " + parseError.errorString().toUtf8(), "invalid_json"));
            return;
        }
        const QString name = request.value(QStringLiteral("name")).toString();
        if (name.isEmpty()) {
            reply(failure(400, "'name' is required and must be a non-empty string", "missing_field", "name"));
            return;
        }
        auto policy = worker.activePolicy();
        if (!policy) {
            reply(storeFailure(policy.error()));
            return;
        }
        Policy next = policy.value();
        for (const auto &key : next.virtualKeys) {
            if (key.name == name) {
                reply(failure(409, "a virtual key named '" + name.toUtf8() + "' already exists", "key_exists", "name"));
                return;
            }
        }
        Gateway::Config::VirtualKey key;
        key.name = name;
        key.key = newVirtualKey();
        const QJsonValue routes = request.value(QStringLiteral("routes"));
        if (!routes.isUndefined() && !routes.isArray()) {
            reply(failure(400, "'routes' must be a list of model names", "invalid_field", "routes"));
            return;
        }
        for (const auto &route : routes.toArray()) {
            if (!next.findRoute(route.toString().toUtf8())) {
                reply(failure(400, "'routes' names an unknown route '" + route.toString().toUtf8() + "'", "invalid_field",
                              "routes"));
                return;
            }
            key.routes << route.toString();
        }
        const QByteArray plaintext = key.key;
        next.virtualKeys.push_back(key);
        bool created = false;
        auto id = worker.applyPolicy(next, author, QStringLiteral("create virtual key %1").arg(name),
                                     AuditAction::KEY_CREATE, QStringLiteral("virtual key %1").arg(name), created);
        if (!id) {
            reply(storeFailure(id.error()));
            return;
        }
        QJsonObject answer = keyJson(key);
        answer.insert(QStringLiteral("key"), QString::fromUtf8(plaintext)); // shown this once only
        answer.insert(QStringLiteral("version"), id.value());
        reply(json(201, answer));
    });
}

void PolicyService::listKeys(ReplyCallback reply)
{
    post([reply = std::move(reply)](StoreWorker &worker) {
        auto policy = worker.activePolicy();
        if (!policy) {
            reply(storeFailure(policy.error()));
            return;
        }
        QJsonArray data;
        for (const auto &key : policy->virtualKeys) {
            data.append(keyJson(key));
        }
        reply(json(200, {{QStringLiteral("data"), data}}));
    });
}

void PolicyService::deleteKey(QString name, QString author, ReplyCallback reply)
{
    post([name = std::move(name), author = std::move(author), reply = std::move(reply)](StoreWorker &worker) {
        auto policy = worker.activePolicy();
        if (!policy) {
            reply(storeFailure(policy.error()));
            return;
        }
        Policy next = policy.value();
        const auto removed = std::erase_if(next.virtualKeys, [&name](const auto &key) { return key.name == name; });
        if (removed == 0) {
            reply(failure(404, "no virtual key named '" + name.toUtf8() + "'", "key_not_found"));
            return;
        }
        bool created = false;
        auto id = worker.applyPolicy(next, author, QStringLiteral("revoke virtual key %1").arg(name),
                                     AuditAction::KEY_REVOKE, QStringLiteral("virtual key %1").arg(name), created);
        if (!id) {
            reply(storeFailure(id.error()));
            return;
        }
        reply(json(200, {{QStringLiteral("deleted"), name}, {QStringLiteral("version"), id.value()}}));
    });
}

void PolicyService::listRequests(Gateway::Admin::RequestFilter filter, ReplyCallback reply)
{
    post([filter, reply = std::move(reply)](StoreWorker &worker) {
        RequestQuery query;
        query.sinceMs = filter.sinceMs;
        query.untilMs = filter.untilMs;
        query.route = filter.route;
        query.virtualKey = filter.virtualKey;
        query.status = filter.status;
        query.limit = filter.limit;
        query.cursor = filter.cursor;
        auto page = worker.reader().requests(query);
        if (!page) {
            reply(storeFailure(page.error()));
            return;
        }
        QJsonArray data;
        for (qsizetype i = 0; i < page->rows.size(); ++i) {
            const auto &row = page->rows[i];
            QJsonObject entry {
                {QStringLiteral("id"), page->ids[i]},
                {QStringLiteral("finished_at_ms"), row.finishedAtMs},
                {QStringLiteral("request_id"), QString::fromUtf8(row.requestId)},
                {QStringLiteral("virtual_key"), row.virtualKey},
                {QStringLiteral("route"), QString::fromUtf8(row.route)},
                {QStringLiteral("backend"), QString::fromUtf8(row.backend)},
                {QStringLiteral("endpoint"), QString::fromUtf8(row.endpoint)},
                {QStringLiteral("status"), row.status},
                {QStringLiteral("error_class"), QString::fromUtf8(row.errorClass)},
                {QStringLiteral("latency_ms"), row.latencyMs},
                {QStringLiteral("ttft_ms"), row.ttftMs >= 0 ? QJsonValue(row.ttftMs) : QJsonValue()},
                {QStringLiteral("tokens_in"), row.tokensIn >= 0 ? QJsonValue(row.tokensIn) : QJsonValue()},
                {QStringLiteral("tokens_out"), row.tokensOut >= 0 ? QJsonValue(row.tokensOut) : QJsonValue()},
                {QStringLiteral("cost_usd"), row.costUsd},
                {QStringLiteral("attempts"), row.attempts},
                {QStringLiteral("stream"), row.stream},
                // Why it went where it went (empty unless x-switchyard-explain asked).
                {QStringLiteral("route_reason"), QString::fromUtf8(row.routeReason)},
                // Cached routes: hit, semantic-hit, miss or bypass (docs/CACHE.md); "" elsewhere.
                {QStringLiteral("cache"), QString::fromUtf8(row.cache)},
            };
            data.append(entry);
        }
        QJsonObject body {{QStringLiteral("data"), data}};
        body.insert(QStringLiteral("next_cursor"), page->nextCursor > 0 ? QJsonValue(page->nextCursor) : QJsonValue());
        reply(json(200, body));
    });
}

void PolicyService::listEvents(qint64 sinceMs, QString kind, int limit, ReplyCallback reply)
{
    post([sinceMs, kind = std::move(kind), limit, reply = std::move(reply)](StoreWorker &worker) {
        auto events = worker.reader().events(sinceMs, kind, limit);
        if (!events) {
            reply(storeFailure(events.error()));
            return;
        }
        QJsonArray data;
        for (const auto &event : events.value()) {
            data.append(QJsonObject {{QStringLiteral("id"), event.id},
                                     {QStringLiteral("at_ms"), event.atMs},
                                     {QStringLiteral("kind"), event.kind},
                                     {QStringLiteral("subject"), event.subject},
                                     {QStringLiteral("detail"), QJsonDocument::fromJson(event.detailJson).object()}});
        }
        reply(json(200, {{QStringLiteral("data"), data}}));
    });
}

void PolicyService::listAudit(qint64 sinceMs, int limit, qint64 cursor, ReplyCallback reply)
{
    post([sinceMs, limit, cursor, reply = std::move(reply)](StoreWorker &worker) {
        auto page = worker.repository().audit().page(sinceMs, limit, cursor);
        if (!page) {
            reply(storeFailure(page.error()));
            return;
        }
        QJsonArray data;
        for (const auto &row : page->rows) {
            data.append(auditRowJson(row));
        }
        QJsonObject body {{QStringLiteral("data"), data}};
        body.insert(QStringLiteral("next_cursor"), page->nextCursor > 0 ? QJsonValue(page->nextCursor) : QJsonValue());
        reply(json(200, body));
    });
}

void PolicyService::verifyAudit(QByteArray anchor, ReplyCallback reply)
{
    post([anchor = std::move(anchor), reply = std::move(reply)](StoreWorker &worker) {
        auto verified = worker.repository().audit().verify(anchor);
        if (!verified) {
            reply(storeFailure(verified.error()));
            return;
        }
        // A broken chain is a finding, not a failed request: 200 with "ok": false.
        reply(json(200, auditVerificationJson(verified.value())));
    });
}

void PolicyService::spend(Gateway::Admin::SpendFilter filter, ReplyCallback reply)
{
    post([filter = std::move(filter), reply = std::move(reply)](StoreWorker &worker) {
        const qint64 now = QDateTime::currentMSecsSinceEpoch();
        auto rows = querySpend(worker.database().connection(), filter, now);
        if (!rows) {
            reply(storeFailure(rows.error()));
            return;
        }
        QJsonArray data;
        double totalUsd = 0;
        for (const SpendRow &row : rows.value()) {
            const double usd = Gateway::Governance::nanosToUsd(row.costNanos);
            totalUsd += usd;
            data.append(QJsonObject {{QString::fromUtf8(filter.groupBy), row.group},
                                     {QStringLiteral("requests"), row.requests},
                                     {QStringLiteral("cost_usd"), usd},
                                     {QStringLiteral("tokens_in"), row.tokensIn},
                                     {QStringLiteral("cached_tokens_in"), row.cachedTokensIn},
                                     {QStringLiteral("tokens_out"), row.tokensOut},
                                     {QStringLiteral("estimated_requests"), row.estimated}});
        }
        reply(json(200, {{QStringLiteral("group_by"), QString::fromUtf8(filter.groupBy)},
                         {QStringLiteral("since_ms"), filter.sinceMs},
                         {QStringLiteral("until_ms"), filter.untilMs > 0 ? filter.untilMs : now},
                         {QStringLiteral("total_cost_usd"), totalUsd},
                         {QStringLiteral("data"), data}}));
    });
}

} // namespace Storage
