#pragma once

#include "admin/adminhandler.h"
#include "errorresponse.h"
#include "governancegate.h"
#include "metrics/errorclass.h"
#include "proxyenvironment.h"
#include "workercontext.h"

#include "http/requesthandler.h"
#include "mcp/mcphandler.h"

#include <chrono>
#include <optional>

namespace Gateway::Proxy {

// The gateway's request handler on one worker thread: answers /healthz, /metrics and
// /v1/models itself, validates inference requests (auth, JSON, model) and hands each
// valid one to a ProxyExchange.
class ProxyHandler final : public Http::RequestHandler {
public:
    ProxyHandler(const ProxyEnvironment &environment, std::uint64_t seed);

    std::unique_ptr<Http::Exchange> handle(Http::Request &&request, Http::ResponseWriter &writer) override;

private:
    struct Refusal {
        int status;
        Metrics::ErrorClass errorClass;
        QByteArray message;
        QByteArray code;
        QByteArray param;
    };

    std::unique_ptr<Http::Exchange> handleInference(Runtime::Endpoint endpoint, Http::Request &&request,
                                                    Http::ResponseWriter &writer, const QByteArray &requestId);
    void handleModels(const Http::Request &request, Http::ResponseWriter &writer, const QByteArray &requestId);
    // POST /admin/v1/explain: runs rules, split and strategy on a request body without
    // sending anything, and says where it would go and why.
    Admin::AdminReply explainRoute(const Http::Request &request);
    void handleMetrics(Http::ResponseWriter &writer);
    // Authenticates the client; returns the key's entry, or nullptr when no keys are
    // configured. Fills `refusal` on failure.
    const Runtime::VirtualKeyRuntime *authenticate(const Runtime::RouteTable &table, const Http::Request &request,
                                                   std::optional<Refusal> &refusal) const;
    // The prompt firewall of `screened` on the request's message text: a block fills
    // `refusal`; a redaction rewrites the body and inspects it again. True to go on.
    bool screenPrompt(const Runtime::RouteRuntime &screened, const Runtime::RouteTable &table, Runtime::Endpoint endpoint,
                      Http::Request &request, InspectedRequest &inspected, std::optional<Refusal> &refusal);
    void logRefusal(const QByteArray &requestId, const QByteArray &path, const QByteArray &route, const QString &keyName,
                    const Refusal &refusal, std::chrono::steady_clock::time_point receivedAt);
    void refuse(Http::ResponseWriter &writer, ErrorShape shape, const QByteArray &requestId, const Refusal &refusal,
                Metrics::RouteStats *route, const Http::HeaderList &extraHeaders = {});
    void respondRefused(Http::ResponseWriter &writer, ErrorShape shape, const QByteArray &requestId,
                        const ErrorInfo &error, Metrics::ErrorClass errorClass, Metrics::RouteStats *route,
                        const Http::HeaderList &extraHeaders);

    WorkerContext m_worker;
    Admin::AdminHandler m_admin;
    GovernanceGate m_governance;
    Mcp::McpHandler m_mcp;
};

} // namespace Gateway::Proxy
