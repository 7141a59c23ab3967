#include "proxyhandler.h"

#include "proxyexchange.h"
#include "promptfirewall.h"
#include "attemptplanner.h"
#include "cache/cachedispatch.h"
#include "routedecider.h"
#include "runtime/snapshotsource.h"
#include "tracing/spanexporter.h"
#include "util/jsonwriter.h"

#include <QDateTime>
#include <QUrlQuery>

#include <algorithm>
#include <optional>

namespace Gateway::Proxy {

namespace {

// The first configured source that is present: a header, or the body's user field
// (OpenAI `user`, Anthropic `metadata.user_id`; the inspector reads both).
QByteArray sessionKeyOf(const std::vector<QByteArray> &sources, const Http::Request &request,
                        const InspectedRequest &inspected)
{
    for (const QByteArray &source : sources) {
        if (source == "user" || source == "metadata.user_id") {
            if (!inspected.user.isEmpty()) {
                return inspected.user;
            }
            continue;
        }
        const QByteArray value = request.header(source);
        if (!value.isEmpty()) {
            return value;
        }
    }
    return {};
}

// RequestFacts::HeaderLookup over a request's headers (names are lower-case already).
QByteArrayView requestHeader(const void *context, QByteArrayView lowerName)
{
    for (const auto &header : static_cast<const Http::Request *>(context)->headers) {
        if (header.name == lowerName) {
            // Present but empty is still present: a null view would read as absent.
            return header.value.isNull() ? QByteArrayView {"", 0} : QByteArrayView {header.value};
        }
    }
    return {};
}

// Rules and split of the requested route (nothing to do, and nothing allocated, for a
// route without them).
RouteDecider::Decision decideRoute(const Runtime::RouteTable &table, const Runtime::RouteRuntime &requested,
                                   const QString &keyName, const Http::Request &request, const InspectedRequest &inspected,
                                   const QByteArray &sessionKey, Routing::Rng &rng, bool explain)
{
    if (requested.rules.empty() && !requested.split) {
        RouteDecider::Decision decision;
        decision.route = &requested;
        return decision;
    }
    Routing::RequestFacts facts;
    facts.virtualKey = keyName;
    facts.headerLookup = &requestHeader;
    facts.headerContext = &request;
    facts.estimatedPromptTokens = inspected.estimatedPromptTokens;
    facts.maxTokens = inspected.maxTokens;
    facts.hasImages = inspected.hasImages;
    facts.hasTools = inspected.hasTools;
    facts.lastUserMessage = inspected.lastUserMessage;
    return RouteDecider::decide(table, requested, facts, {sessionKey, inspected.user}, rng, explain);
}

using Metrics::ErrorClass;

// Where an endpoint's message text is, for error.param (Anthropic errors have none).
QByteArray messageTextParam(Runtime::Endpoint endpoint)
{
    switch (endpoint) {
    case Runtime::Endpoint::ChatCompletions:
        return QByteArrayLiteral("messages");
    case Runtime::Endpoint::Completions:
        return QByteArrayLiteral("prompt");
    case Runtime::Endpoint::Embeddings:
        return QByteArrayLiteral("input");
    case Runtime::Endpoint::Messages:
        break;
    }
    return {};
}

// The x-priority header when present (even empty, which is an error, not "absent").
std::optional<QByteArray> priorityHeader(const Http::Request &request)
{
    for (const auto &header : request.headers) {
        if (header.name == "x-priority") {
            return header.value;
        }
    }
    return std::nullopt;
}

QByteArray presentedKey(const Http::Request &request)
{
    const QByteArray authorization = request.header("authorization");
    if (authorization.size() > 7 && authorization.first(7).toLower() == "bearer ") {
        return authorization.sliced(7).trimmed();
    }
    return request.header("x-api-key");
}

} // namespace

ProxyHandler::ProxyHandler(const ProxyEnvironment &environment, std::uint64_t seed)
    : m_worker {environment, seed}
    , m_admin {environment.adminService, m_worker.threadContext(), environment.stateJson,
               [this](const Http::Request &request) { return explainRoute(request); }}
    , m_governance {environment}
    , m_mcp {m_worker}
{
}

std::unique_ptr<Http::Exchange> ProxyHandler::handle(Http::Request &&request, Http::ResponseWriter &writer)
{
    const QByteArray requestId = m_worker.nextRequestId();
    const QByteArray &path = request.path;
    const bool isGet = request.method == "GET" || request.method == "HEAD";
    const ErrorShape shape = path == "/v1/messages" ? ErrorShape::Anthropic : ErrorShape::OpenAi;

    if (path.startsWith("/admin/v1/")) {
        const auto &table = *m_worker.table();
        const QByteArray &configured = table.adminTokenDigest();
        const Admin::AdminHandler::Access access {
            configured.isEmpty() ? m_worker.environment().fallbackAdminTokenDigest : configured,
            table.policy().gateway.adminAllowRemote};
        return m_admin.handle(std::move(request), writer, access, requestId);
    }
    if (Mcp::McpHandler::claims(path)) {
        // The same virtual keys as the LLM endpoints; MCP answers in JSON-RPC shape.
        std::optional<Refusal> refusal;
        const Runtime::VirtualKeyRuntime *key = authenticate(*m_worker.table(), request, refusal);
        std::optional<Mcp::McpHandler::AuthFailure> authFailure;
        if (refusal) {
            authFailure = Mcp::McpHandler::AuthFailure {refusal->status, refusal->message};
        }
        return m_mcp.handle(std::move(request), writer, requestId, key, authFailure);
    }
    Runtime::Endpoint endpoint;
    if (Runtime::endpointForPath(path, endpoint)) {
        if (request.method != "POST") {
            refuse(writer, shape, requestId,
                   {405, ErrorClass::BadRequest, "method " + request.method + " is not allowed on " + path + "; use POST",
                    "method_not_allowed", {}},
                   nullptr, {{"allow", "POST"}});
            return nullptr;
        }
        return handleInference(endpoint, std::move(request), writer, requestId);
    }
    if (path == "/healthz" || path == "/metrics" || path == "/v1/models") {
        if (!isGet) {
            refuse(writer, shape, requestId,
                   {405, ErrorClass::BadRequest, "method " + request.method + " is not allowed on " + path + "; use GET",
                    "method_not_allowed", {}},
                   nullptr, {{"allow", "GET, HEAD"}});
            return nullptr;
        }
        if (path == "/healthz") {
            writer.respond(200, {{"content-type", "application/json"}, {"x-switchyard-request-id", requestId}},
                           "{\"status\":\"ok\"}");
        } else if (path == "/metrics") {
            handleMetrics(writer);
        } else {
            handleModels(request, writer, requestId);
        }
        return nullptr;
    }
    refuse(writer, shape, requestId, {404, ErrorClass::NotFound, "no such endpoint: " + path, "unknown_url", {}}, nullptr);
    return nullptr;
}

const Runtime::VirtualKeyRuntime *ProxyHandler::authenticate(const Runtime::RouteTable &table,
                                                             const Http::Request &request,
                                                             std::optional<Refusal> &refusal) const
{
    if (!table.requiresClientKey()) {
        return nullptr;
    }
    const QByteArray key = presentedKey(request);
    if (key.isEmpty()) {
        refusal = Refusal {401, ErrorClass::Unauthorized,
                           "missing API key: send your Switchyard virtual key as 'Authorization: Bearer <key>' or 'x-api-key: <key>'",
                           "missing_api_key", {}};
        return nullptr;
    }
    const auto *entry = table.findVirtualKey(key);
    if (!entry) {
        refusal = Refusal {401, ErrorClass::Unauthorized, "invalid API key: it matches no Switchyard virtual key",
                           "invalid_api_key", {}};
    }
    return entry;
}

std::unique_ptr<Http::Exchange> ProxyHandler::handleInference(Runtime::Endpoint endpoint, Http::Request &&request,
                                                              Http::ResponseWriter &writer, const QByteArray &requestId)
{
    const auto receivedAt = ProxyExchange::Clock::now();
    const ErrorShape shape = endpoint == Runtime::Endpoint::Messages ? ErrorShape::Anthropic : ErrorShape::OpenAi;
    std::shared_ptr<const Runtime::RouteTable> table = m_worker.table();

    // Refused requests are logged too: the request log has one row per request.
    const auto reject = [&](const Refusal &refusal, Metrics::RouteStats *stats, const QByteArray &model,
                            const QString &keyName) {
        logRefusal(requestId, request.path, model, keyName, refusal, receivedAt);
        refuse(writer, shape, requestId, refusal, stats);
    };
    std::optional<Refusal> refusal;
    const Runtime::VirtualKeyRuntime *key = authenticate(*table, request, refusal);
    if (refusal) {
        reject(*refusal, nullptr, {}, {});
        return nullptr;
    }
    const QString keyName = key ? key->name : QString();
    const QByteArray contentType = request.header("content-type").toLower();
    if (!contentType.isEmpty() && !contentType.contains("json")) {
        reject({415, ErrorClass::BadRequest, "Content-Type must be application/json, not " + contentType,
                "unsupported_media_type", {}},
               nullptr, {}, keyName);
        return nullptr;
    }
    // Admission class: the header, else the key's, else the default. Checked on every
    // route, queued or not, so a typo is reported the same way everywhere.
    Admission::PriorityClass priority = key ? key->priority : Admission::DEFAULT_PRIORITY_CLASS;
    if (const std::optional<QByteArray> header = priorityHeader(request)) {
        const auto parsed = Admission::parsePriorityClass(*header);
        if (!parsed) {
            reject({400, ErrorClass::BadRequest, parsed.error().message.toUtf8(), "invalid_priority", "x-priority"},
                   nullptr, {}, keyName);
            return nullptr;
        }
        priority = parsed.value();
    }
    auto inspected = m_worker.inspector().inspect(endpoint, request.body, table->readsLastUserMessage(), table->promptBlockChars());
    if (!inspected) {
        const auto &error = inspected.error();
        reject({400, ErrorClass::BadRequest, error.message, error.code, error.param}, nullptr, {}, keyName);
        return nullptr;
    }
    const Runtime::RouteRuntime *requested = table->findRoute(inspected->model);
    if (!requested) {
        QByteArray available;
        for (const auto &candidate : table->routes()) {
            if (!key || key->allRoutes || key->routes.contains(candidate->model)) {
                available += (available.isEmpty() ? "" : ", ") + candidate->model;
            }
        }
        reject({404, ErrorClass::NotFound,
                "model '" + inspected->model + "' does not exist" +
                    (available.isEmpty() ? QByteArray() : "; available models: " + available),
                "model_not_found", "model"},
               nullptr, inspected->model, keyName);
        return nullptr;
    }
    const bool explainHeader = request.header("x-switchyard-explain") == "1";
    // Tracing: only a policy with a `tracing:` section pays anything here.
    std::unique_ptr<Tracing::RequestTrace> trace;
    if (const auto &tracing = table->policy().tracing; tracing && m_worker.environment().spans) {
        trace = Tracing::RequestTrace::begin(*m_worker.environment().spans, *tracing, request,
                                             {endpoint, inspected->model, std::max(0, inspected->maxTokens),
                                              inspected->stream, requestId, keyName, receivedAt});
    }
    // A traced request's spans carry the route reason, so it is built for them too.
    const bool explain = explainHeader || (trace && trace->recording());
    QByteArray sessionKey = sessionKeyOf(table->sessionKeySources(), request, *inspected);
    RouteDecider::Decision decision =
        decideRoute(*table, *requested, keyName, request, *inspected, sessionKey, m_worker.rng(), explain);
    // The permission applies to the route that will serve the request, wherever the
    // client's model name led.
    const Runtime::RouteRuntime *route = decision.route;
    if (key && !key->allRoutes && !key->routes.contains(route->model)) {
        const QByteArray via = route == requested ? QByteArray() : " (chosen by a rule or split of '" + requested->model + "')";
        reject({403, ErrorClass::Unauthorized,
                "virtual key '" + key->name.toUtf8() + "' is not allowed to use model '" + route->model + "'" + via,
                "model_not_allowed", "model"},
               route->stats, route->model, keyName);
        return nullptr;
    }

    // The prompt firewall of the route the client named and, when a rule or split led
    // elsewhere, of the serving route too: a redirect never slips past a firewall.
    for (const Runtime::RouteRuntime *screened : {requested, route == requested ? nullptr : route}) {
        if (!screened || !screened->firewall) {
            continue;
        }
        if (!screenPrompt(*screened, *table, endpoint, request, *inspected, refusal)) {
            reject(*refusal, route->stats, route->model, keyName);
            return nullptr;
        }
    }

    // Limits and budgets of the key and its team, after every other check so a request
    // that would be refused anyway takes nothing from them.
    const GovernanceGate::Estimate estimate = GovernanceGate::estimate(*route, *inspected);
    Governance::Reservation reservation;
    {
        ErrorInfo error;
        QByteArray retryAfter;
        if (!m_governance.reserve(key ? key->subject : table->openSubject(), route->model, estimate, reservation, error,
                                  retryAfter)) {
            logRefusal(requestId, request.path, route->model, keyName,
                       {429, ErrorClass::RateLimited, error.message, error.code, {}}, receivedAt);
            respondRefused(writer, shape, requestId, error, ErrorClass::RateLimited, route->stats,
                           {{"retry-after", retryAfter}});
            return nullptr;
        }
    }

    ProxyExchange::Setup setup;
    setup.reservation = reservation;
    setup.estimate = estimate;
    setup.table = std::move(table);
    setup.route = route;
    setup.endpoint = endpoint;
    setup.request = std::move(request);
    setup.inspected = std::move(inspected).value();
    setup.requestId = requestId;
    setup.virtualKey = key ? key->name : QString();
    setup.receivedAt = receivedAt;
    setup.explain = explain;
    setup.explainHeader = explainHeader;
    setup.trace = std::move(trace);
    setup.sessionKey = std::move(sessionKey);
    setup.allowedTargets = std::move(decision.allowedTargets);
    setup.arm = decision.arm;
    setup.ruleReason = std::move(decision.reason);
    setup.priority = priority;
    // Residency: the key's and team's regions and the requested route's (a rule or split
    // may lead elsewhere, but never out of the regions the client's model promises).
    setup.regions = (key ? key->regions : Runtime::RegionSet::unrestricted()).intersected(requested->regions);
    // Cached routes may answer from the cache here (gateway/cache); others go upstream.
    return Cache::startExchange(m_worker, std::move(setup), writer);
}

bool ProxyHandler::screenPrompt(const Runtime::RouteRuntime &screened, const Runtime::RouteTable &table,
                                Runtime::Endpoint endpoint, Http::Request &request, InspectedRequest &inspected,
                                std::optional<Refusal> &refusal)
{
    thread_local std::vector<MessageText> texts; // reused by this worker's requests
    if (!m_worker.messageText().scan(endpoint, request.body, texts)) {
        return true; // the inspector accepted the body: this cannot happen
    }
    const Runtime::RouteFirewall &firewall = *screened.firewall;
    const FirewallVerdict verdict = applyFirewall(firewall, texts, request.body);
    if (verdict.blocked) {
        // Names the rule, never the text that matched it.
        refusal = Refusal {400, ErrorClass::BadRequest,
                           "the request was blocked by the prompt firewall of model '" + screened.model + "': rule '" +
                               firewall.patterns->ruleName(verdict.blockingRule) + "' matched the message text",
                           "prompt_blocked", messageTextParam(endpoint)};
        return false;
    }
    if (verdict.redacted != 0) {
        // Byte ranges the forwarding edits rely on (model, stream_options) moved.
        auto reinspected = m_worker.inspector().inspect(endpoint, request.body, table.readsLastUserMessage(),
                                                        table.promptBlockChars());
        if (reinspected) {
            inspected = std::move(reinspected).value();
        }
    }
    return true;
}

Admin::AdminReply ProxyHandler::explainRoute(const Http::Request &request)
{
    const auto failure = [](int status, const QByteArray &message, const QByteArray &code) {
        ErrorInfo info;
        info.status = status;
        info.message = message;
        info.code = code;
        return Admin::AdminReply {status, "application/json", errorBody(ErrorShape::OpenAi, info)};
    };
    const QUrlQuery query {QString::fromUtf8(request.query)};
    const QByteArray path = query.hasQueryItem(QStringLiteral("endpoint"))
                                ? query.queryItemValue(QStringLiteral("endpoint")).toUtf8()
                                : QByteArrayLiteral("/v1/chat/completions");
    Runtime::Endpoint endpoint;
    if (!Runtime::endpointForPath(path, endpoint)) {
        return failure(400, "unknown endpoint '" + path + "' (e.g. /v1/chat/completions, /v1/messages)", "invalid_endpoint");
    }
    const std::shared_ptr<const Runtime::RouteTable> table = m_worker.table();
    auto inspected = m_worker.inspector().inspect(endpoint, request.body, table->readsLastUserMessage(), table->promptBlockChars());
    if (!inspected) {
        return failure(400, inspected.error().message, inspected.error().code);
    }
    const Runtime::RouteRuntime *requested = table->findRoute(inspected->model);
    if (!requested) {
        return failure(404, "model '" + inspected->model + "' does not exist", "model_not_found");
    }
    // The explained request's own headers (session id, rule headers) are the admin
    // request's headers; the virtual key is named by ?key=.
    const QString keyName = query.queryItemValue(QStringLiteral("key"));
    const QByteArray sessionKey = sessionKeyOf(table->sessionKeySources(), request, *inspected);
    const RouteDecider::Decision decision =
        decideRoute(*table, *requested, keyName, request, *inspected, sessionKey, m_worker.rng(), true);
    const Routing::RequestSummary summary = requestSummary(*inspected, sessionKey);
    const Routing::BackendSnapshot &snapshot = m_worker.routingSnapshot(*table, Runtime::monotonicNowMs());
    std::vector<PlannedAttempt> attempts;
    QByteArray reason;
    const Runtime::VirtualKeyRuntime *key = keyName.isEmpty() ? nullptr : table->findVirtualKeyByName(keyName);
    const Runtime::RegionSet regions =
        (key ? key->regions : Runtime::RegionSet::unrestricted()).intersected(requested->regions);
    AttemptPlanner planner {*table, endpoint, m_worker.rng(), regions};
    planner.plan(*decision.route, summary, snapshot, decision.allowedTargets, attempts, &reason);
    if (!decision.reason.isEmpty()) {
        reason = decision.reason + "; " + reason;
    }
    QByteArray order;
    for (const auto &attempt : attempts) {
        order += (order.isEmpty() ? "" : ",") + Json::quoted(attempt.backend->label);
    }
    const QByteArray body = "{\"requested\":" + Json::quoted(requested->model) + ",\"route\":" +
                            Json::quoted(decision.route->model) + ",\"strategy\":" + Json::quoted(decision.route->strategy.toUtf8()) +
                            ",\"session_key\":" + (sessionKey.isEmpty() ? QByteArray("null") : Json::quoted(sessionKey)) +
                            ",\"regions\":" + Json::quoted(table->regions().describe(regions.intersected(decision.route->regions))) +
                            ",\"residency_excluded\":" + QByteArray::number(planner.residencyExclusions()) +
                            ",\"attempts\":[" + order + "],\"route_reason\":" + Json::quoted(reason) + "}";
    return {200, "application/json", body};
}

void ProxyHandler::handleModels(const Http::Request &request, Http::ResponseWriter &writer, const QByteArray &requestId)
{
    const auto &table = m_worker.table();
    std::optional<Refusal> refusal;
    const Runtime::VirtualKeyRuntime *key = authenticate(*table, request, refusal);
    if (refusal) {
        refuse(writer, ErrorShape::OpenAi, requestId, *refusal, nullptr);
        return;
    }
    QByteArray body = "{\"object\":\"list\",\"data\":[";
    bool first = true;
    for (const auto &route : table->routes()) {
        if (key && !key->allRoutes && !key->routes.contains(route->model)) {
            continue;
        }
        if (!first) {
            body += ',';
        }
        first = false;
        body += "{\"id\":";
        Json::appendString(body, route->model);
        body += ",\"object\":\"model\",\"created\":0,\"owned_by\":\"switchyard\"}";
    }
    body += "]}";
    writer.respond(200, {{"content-type", "application/json"}, {"x-switchyard-request-id", requestId}}, body);
}

void ProxyHandler::handleMetrics(Http::ResponseWriter &writer)
{
    QByteArray body;
    body.reserve(16 * 1024);
    if (m_worker.environment().appendServerMetrics) {
        m_worker.environment().appendServerMetrics(body);
    }
    m_worker.environment().metrics.appendPrometheus(body);
    writer.respond(200, {{"content-type", "text/plain; version=0.0.4; charset=utf-8"}}, body);
}

void ProxyHandler::logRefusal(const QByteArray &requestId, const QByteArray &path, const QByteArray &route,
                              const QString &keyName, const Refusal &refusal, std::chrono::steady_clock::time_point receivedAt)
{
    RequestLogSink *log = m_worker.environment().requestLog;
    if (!log || !m_worker.table()->policy().requestLog.enabled) {
        return;
    }
    RequestLogEntry entry;
    entry.finishedAtMs = QDateTime::currentMSecsSinceEpoch();
    entry.requestId = requestId;
    entry.virtualKey = keyName;
    entry.route = route;
    entry.endpoint = path;
    entry.status = refusal.status;
    entry.errorClass = Metrics::errorClassName(refusal.errorClass).toByteArray();
    entry.latencyMs = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - receivedAt).count();
    log->record(std::move(entry));
}

void ProxyHandler::refuse(Http::ResponseWriter &writer, ErrorShape shape, const QByteArray &requestId,
                          const Refusal &refusal, Metrics::RouteStats *route, const Http::HeaderList &extraHeaders)
{
    ErrorInfo error;
    error.status = refusal.status;
    error.message = refusal.message;
    error.code = refusal.code;
    error.param = refusal.param;
    respondRefused(writer, shape, requestId, error, refusal.errorClass, route, extraHeaders);
}

void ProxyHandler::respondRefused(Http::ResponseWriter &writer, ErrorShape shape, const QByteArray &requestId,
                                  const ErrorInfo &error, Metrics::ErrorClass errorClass, Metrics::RouteStats *route,
                                  const Http::HeaderList &extraHeaders)
{
    const auto index = static_cast<std::size_t>(errorClass);
    if (route) {
        route->requests.fetch_add(1, std::memory_order_relaxed);
        route->errors[index].fetch_add(1, std::memory_order_relaxed);
    } else {
        m_worker.environment().metrics.unroutedErrors()[index].fetch_add(1, std::memory_order_relaxed);
    }
    Http::HeaderList headers {{"content-type", "application/json"}, {"x-switchyard-request-id", requestId}};
    headers.insert(headers.end(), extraHeaders.begin(), extraHeaders.end());
    writer.respond(error.status, headers, errorBody(shape, error));
}

} // namespace Gateway::Proxy
