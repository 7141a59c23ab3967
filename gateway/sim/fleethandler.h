#pragma once

#include "fleetserverconfig.h"
#include "http/requesthandler.h"

#include <QByteArray>

#include <atomic>
#include <memory>

namespace Gateway::Sim {

class FleetEngine;
struct FleetCounters;
class FleetRequestLog;

// Serves a fleet-mode server on its one worker thread: POST /v1/chat/completions and
// /v1/completions go to the engine, GET /metrics renders the engine's live state with
// vLLM's names, GET /v1/models and /health answer at once. Owns the engine, so the
// model and its timer live on the worker thread.
class FleetHandler final : public Http::RequestHandler {
public:
    FleetHandler(const FleetServerConfig &config, QByteArray name, FleetCounters &counters, FleetRequestLog &requests,
                 const std::atomic<quint16> &port);
    ~FleetHandler() override;
    FleetHandler(const FleetHandler &) = delete;
    FleetHandler &operator=(const FleetHandler &) = delete;

    std::unique_ptr<Http::Exchange> handle(Http::Request &&request, Http::ResponseWriter &writer) override;

private:
    std::unique_ptr<Http::Exchange> serveInference(bool chat, const Http::Request &request,
                                                   Http::ResponseWriter &writer);
    Http::HeaderList headers(QByteArrayView contentType) const;
    void respondError(Http::ResponseWriter &writer, int status, QByteArrayView message) const;
    // The kv_transfer_params a prefill step answers with (vLLM NixlConnector's fields).
    QByteArray prefillAnswerParams(int promptTokens);

    FleetServerConfig m_config;
    QByteArray m_name;
    FleetCounters &m_counters;
    FleetRequestLog &m_requests;
    const std::atomic<quint16> &m_port;
    std::unique_ptr<FleetEngine> m_engine;
    qint64 m_nextBlockId = 0; // block ids handed out in prefill answers
};

} // namespace Gateway::Sim
