#include "socketfleet.h"

#include "config/policyloader.h"
#include "runtime/gatewayruntime.h"
#include "sim/fleetserver.h"
#include "testhttpclient.h"

#include <optional>

namespace FleetBench {

namespace {

QByteArray serverName(int index)
{
    return "gpu-" + QByteArray::number(index);
}

// One sample of a Prometheus exposition: "name{labels} value".
std::optional<double> sample(const QByteArray &metrics, QByteArrayView name)
{
    for (const QByteArray &line : metrics.split('\n')) {
        if (line.startsWith(name) && line.size() > name.size() && line.at(name.size()) == '{') {
            bool ok = false;
            const double value = line.mid(line.lastIndexOf(' ') + 1).toDouble(&ok);
            if (ok) {
                return value;
            }
        }
    }
    return std::nullopt;
}

} // namespace

SocketFleet::SocketFleet() = default;
SocketFleet::~SocketFleet() = default;

Gateway::Expected<quint16, QString> SocketFleet::start(const Settings &settings)
{
    m_settings = settings;
    QByteArray providers;
    QByteArray targets;
    for (int i = 0; i < settings.servers; ++i) {
        auto server = std::make_unique<Gateway::Sim::FleetServer>(QString::fromLatin1(serverName(i)), settings.server);
        const auto port = server->listen();
        if (!port) {
            return Gateway::Unexpected {port.error()};
        }
        providers += "  - {name: " + serverName(i) + ", type: vllm, base_url: " + server->baseUrl() +
                     ", metrics_url: " + server->metricsUrl() + "}\n";
        targets += (i > 0 ? ", " : "") + QByteArray("{provider: ") + serverName(i) + ", model: " +
                   settings.server.model + '}';
        m_servers.push_back(std::move(server));
    }
    // Nothing but the GPU route: every request is ranked by the prefix_aware preset with
    // its published defaults, as makeFleetPolicy("prefix_aware") builds it in process.
    m_yaml = "routing:\n  metrics_interval_ms: " + QByteArray::number(settings.metricsIntervalMs) +
             "\nproviders:\n" + providers + "routes:\n  - model: " + settings.route +
             "\n    strategy: prefix_aware\n    strategy_options: {preset: prefix_aware}\n    targets: [" + targets +
             "]\n";

    const auto noEnvironment = [](const QString &) -> std::optional<QByteArray> { return std::nullopt; };
    auto policy = Gateway::Config::parsePolicy(m_yaml, QStringLiteral("fleet-e2e.yaml"), noEnvironment);
    if (!policy) {
        return Gateway::Unexpected {policy.error().toString()};
    }
    policy->gateway.listenHost = QStringLiteral("127.0.0.1");
    policy->gateway.listenPort = 0;
    policy->gateway.threads = settings.gatewayThreads;
    m_gateway = std::make_unique<Gateway::GatewayRuntime>(policy.value());
    return m_gateway->start();
}

quint16 SocketFleet::gatewayPort() const
{
    return m_gateway ? m_gateway->port() : 0;
}

QList<QByteArray> SocketFleet::backendLabels() const
{
    QList<QByteArray> labels;
    for (int i = 0; i < static_cast<int>(m_servers.size()); ++i) {
        labels.push_back(serverName(i) + '/' + m_settings.server.model);
    }
    return labels;
}

std::optional<Gateway::Sim::Fleet::ServerStatus> SocketFleet::scrape(int server) const
{
    TestSupport::TestHttpClient client {m_servers.at(static_cast<std::size_t>(server))->port()};
    client.get("/metrics");
    if (!client.waitForResponses(1) || client.responses().first().status != 200) {
        return std::nullopt;
    }
    const QByteArray text = client.responses().first().body;
    const auto running = sample(text, "vllm:num_requests_running");
    const auto waiting = sample(text, "vllm:num_requests_waiting");
    const auto usage = sample(text, "vllm:kv_cache_usage_perc");
    const auto queries = sample(text, "vllm:prefix_cache_queries_total");
    const auto hits = sample(text, "vllm:prefix_cache_hits_total");
    if (!running || !waiting || !usage || !queries || !hits) {
        return std::nullopt;
    }
    Gateway::Sim::Fleet::ServerStatus status;
    status.running = static_cast<int>(*running);
    status.waiting = static_cast<int>(*waiting);
    status.kvCacheUsage = *usage;
    status.prefixCacheQueries = static_cast<std::int64_t>(*queries);
    status.prefixCacheHits = static_cast<std::int64_t>(*hits);
    status.processPrefixCacheQueries = status.prefixCacheQueries; // the engines do not restart here
    status.processPrefixCacheHits = status.prefixCacheHits;
    status.blockSize = m_settings.server.engine.blockSize;
    status.numGpuBlocks = m_settings.server.engine.numGpuBlocks;
    return status;
}

} // namespace FleetBench
