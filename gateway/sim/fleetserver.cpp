#include "fleetserver.h"

#include "fleethandler.h"
#include "http/server.h"

namespace Gateway::Sim {

FleetServer::FleetServer(QString name, const FleetServerConfig &config)
    : m_name {std::move(name)}
    , m_config {config}
{
}

FleetServer::~FleetServer() = default;

Expected<quint16, QString> FleetServer::listen(quint16 port)
{
    if (m_server) {
        return Unexpected {QStringLiteral("%1: already listening").arg(m_name)};
    }
    const FleetServerConfig config = m_config;
    const QByteArray name = m_name.toUtf8();
    FleetCounters *counters = &m_counters;
    FleetRequestLog *requests = &m_requests;
    const std::atomic<quint16> *boundPort = &m_port;
    // One worker thread: one engine, as one GPU server has one scheduler.
    m_server = std::make_unique<Http::Server>(
        m_name, Http::ServerLimits {},
        [config, name, counters, requests, boundPort] {
            return std::make_unique<FleetHandler>(config, name, *counters, *requests, *boundPort);
        },
        1);
    auto bound = m_server->listen(QHostAddress::LocalHost, port);
    if (!bound) {
        m_server.reset();
    } else {
        m_port.store(bound.value(), std::memory_order_relaxed);
    }
    return bound;
}

quint16 FleetServer::port() const
{
    return m_server ? m_server->port() : 0;
}

QByteArray FleetServer::baseUrl() const
{
    return "http://127.0.0.1:" + QByteArray::number(port()) + "/v1";
}

QByteArray FleetServer::metricsUrl() const
{
    return "http://127.0.0.1:" + QByteArray::number(port()) + "/metrics";
}

} // namespace Gateway::Sim
