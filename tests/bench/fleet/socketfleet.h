#pragma once

#include "sim/fleet/servermodel.h"
#include "sim/fleetserverconfig.h"
#include "util/expected.h"

#include <QByteArray>
#include <QList>
#include <QString>

#include <memory>
#include <optional>
#include <vector>

namespace Gateway {
class GatewayRuntime;
}
namespace Gateway::Sim {
class FleetServer;
}

namespace FleetBench {

// The fleet of the end-to-end run, on real sockets: N fleet-mode servers (the fleet
// simulator's engine model on the wall clock) behind an embedded gateway whose one route
// ranks them with `strategy: prefix_aware` from their scraped /metrics.
class SocketFleet final {
public:
    struct Settings {
        int servers = 4;
        Gateway::Sim::FleetServerConfig server;
        int metricsIntervalMs = 50; // routing.metrics_interval_ms (wall clock)
        int gatewayThreads = 2;
        QByteArray route = QByteArrayLiteral("fleet"); // the model clients ask for
    };

    SocketFleet();
    ~SocketFleet();
    SocketFleet(const SocketFleet &) = delete;
    SocketFleet &operator=(const SocketFleet &) = delete;

    // Starts the servers, then the gateway; returns the gateway's port.
    Gateway::Expected<quint16, QString> start(const Settings &settings);

    quint16 gatewayPort() const;
    // The policy the gateway runs, for the report.
    const QByteArray &policyYaml() const { return m_yaml; }
    // "gpu-<i>/<model>": how x-switchyard-backend names server i.
    QList<QByteArray> backendLabels() const;
    // Server i's state as its /metrics reports it (fetched over HTTP, waiting with the
    // event loop); only the exposed fields are set. nullopt if the scrape failed.
    std::optional<Gateway::Sim::Fleet::ServerStatus> scrape(int server) const;

private:
    Settings m_settings;
    QByteArray m_yaml;
    std::vector<std::unique_ptr<Gateway::Sim::FleetServer>> m_servers;
    std::unique_ptr<Gateway::GatewayRuntime> m_gateway; // after the servers: stops first
};

} // namespace FleetBench
