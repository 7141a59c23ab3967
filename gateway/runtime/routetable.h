#pragma once

#include "config/policy.h"
#include "endpoint.h"
#include "metrics/metricsregistry.h"
#include "routing/routepolicy.h"

#include <QByteArray>
#include <QHash>
#include <QSet>

#include <memory>
#include <vector>

namespace Gateway::Runtime {

// A provider with everything the hot path needs precomputed: header lines carrying
// its keys, its extra headers, and the URL of each endpoint.
struct ProviderRuntime {
    Config::Provider config;
    Config::WireFormat format = Config::WireFormat::OpenAi;
    std::vector<QByteArray> authHeaderLines;  // one per key, e.g. "Authorization: Bearer ..."
    std::vector<QByteArray> extraHeaderLines; // "Name: value"

    bool supports(Endpoint endpoint) const;
    QByteArray urlFor(Endpoint endpoint, const QByteArray &upstreamModel) const;
};

// One provider + upstream model pair; routes share backends.
struct BackendRuntime {
    int id = -1;
    int providerIndex = -1;
    QByteArray upstreamModel;
    QByteArray label; // "provider/model": the x-switchyard-backend value
    Metrics::BackendStats *stats = nullptr;
};

struct RouteRuntime {
    int index = -1;
    QByteArray model;
    QString strategy;
    std::vector<Routing::PolicyTarget> targets;
    std::vector<int> fallbackRoutes; // indices into RouteTable::routes()
    std::unique_ptr<Routing::RoutePolicy> policy;
    Metrics::RouteStats *stats = nullptr;
};

struct VirtualKeyRuntime {
    QString name;
    bool allRoutes = true;
    QSet<QByteArray> routes;
};

// The immutable, compiled form of a validated policy. Published to the workers as a
// shared_ptr<const RouteTable>; a request keeps the table it started with.
class RouteTable final {
public:
    // The policy must have passed validation (Config::parsePolicy).
    static std::shared_ptr<const RouteTable> build(const Config::Policy &policy, Metrics::MetricsRegistry &metrics);

    const Config::Policy &policy() const { return m_policy; }
    const std::vector<ProviderRuntime> &providers() const { return m_providers; }
    const std::vector<BackendRuntime> &backends() const { return m_backends; }
    const std::vector<std::unique_ptr<RouteRuntime>> &routes() const { return m_routes; }

    const RouteRuntime *findRoute(const QByteArray &model) const;

    bool requiresClientKey() const { return !m_virtualKeys.isEmpty(); }
    // SHA-256 of gateway.admin_token, empty when the policy sets none.
    const QByteArray &adminTokenDigest() const { return m_adminTokenDigest; }
    // Looks the presented key up by its SHA-256, so plaintext keys are not kept.
    const VirtualKeyRuntime *findVirtualKey(QByteArrayView presentedKey) const;

private:
    RouteTable() = default;

    Config::Policy m_policy;
    std::vector<ProviderRuntime> m_providers;
    std::vector<BackendRuntime> m_backends;
    std::vector<std::unique_ptr<RouteRuntime>> m_routes;
    QHash<QByteArray, int> m_routeIndex;
    QHash<QByteArray, VirtualKeyRuntime> m_virtualKeys; // by SHA-256 of the key
    QByteArray m_adminTokenDigest;
};

} // namespace Gateway::Runtime
