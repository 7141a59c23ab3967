#pragma once

#include "fleetcounters.h"
#include "fleetrequestlog.h"
#include "fleetserverconfig.h"
#include "util/expected.h"

#include <QByteArray>
#include <QString>

#include <memory>

namespace Gateway::Http {
class Server;
}

namespace Gateway::Sim {

// A simulated GPU inference server in "fleet mode": an OpenAI-compatible endpoint on
// 127.0.0.1 whose timing comes from the fleet simulator's engine model (ServerModel:
// continuous batching, chunked prefill, a paged prefix cache) running on the wall clock
// at FleetServerConfig::timeScale. The same model, workloads and routing policies run
// in process on a virtual clock (sim/fleet/fleetdriver.h); this is the same server on
// real sockets, end to end through the gateway.
//
// Served: POST /v1/chat/completions and /v1/completions (streamed or not; exactly
// max_tokens tokens), GET /metrics (the model's live state with vLLM V1 names: queue
// depths, KV usage, prefix-cache queries and hits, cache_config_info), GET /v1/models,
// GET /health. Disaggregated serving as vLLM's KV connectors do it: a request with
// kv_transfer_params.do_remote_decode is prefilled and answered with kv_transfer_params
// for the decode server (engine id = the server's name, block ids, host, port); one with
// do_remote_prefill imports the prompt's blocks after the configured transfer time
// (ServerConfig::kvTransfer*) and skips their prefill. The prompt is rendered the way the gateway renders it for prefix hashing
// (fleetrequest.h), so the server's KV blocks and the gateway's prefix index agree.
// It serves on its own worker thread; every method here may be called from any thread.
class FleetServer final {
public:
    FleetServer(QString name, const FleetServerConfig &config);
    ~FleetServer();
    FleetServer(const FleetServer &) = delete;
    FleetServer &operator=(const FleetServer &) = delete;

    // Binds 127.0.0.1; port 0 picks a free port. Call once. The engine's simulated clock
    // starts here.
    Expected<quint16, QString> listen(quint16 port = 0);
    quint16 port() const;
    // "http://127.0.0.1:PORT/v1" and "http://127.0.0.1:PORT/metrics"
    QByteArray baseUrl() const;
    QByteArray metricsUrl() const;

    QString name() const { return m_name; }
    const FleetServerConfig &config() const { return m_config; }

    int requestsReceived() const { return m_counters.requestsReceived.load(std::memory_order_relaxed); }
    int requestsCompleted() const { return m_counters.requestsCompleted.load(std::memory_order_relaxed); }
    int requestsCancelled() const { return m_counters.requestsCancelled.load(std::memory_order_relaxed); }
    int requestsRejected() const { return m_counters.requestsRejected.load(std::memory_order_relaxed); }
    int metricsScrapes() const { return m_counters.metricsScrapes.load(std::memory_order_relaxed); }
    // Every inference request accepted so far, in arrival order.
    std::vector<FleetRequestRecord> requests() const { return m_requests.records(); }

private:
    const QString m_name;
    const FleetServerConfig m_config;
    // Declared before the server: its handler and exchanges count here until the server
    // has joined its thread.
    FleetCounters m_counters;
    FleetRequestLog m_requests;
    std::atomic<quint16> m_port {0}; // what a prefill answer names as remote_port
    std::unique_ptr<Http::Server> m_server;
};

} // namespace Gateway::Sim
