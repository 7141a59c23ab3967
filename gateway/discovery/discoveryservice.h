#pragma once

#include "dnswatcher.h"
#include "policyexpansion.h"
#include "providerservers.h"

#include "config/policy.h"

#include <QJsonArray>
#include <QSet>

#include <functional>
#include <map>
#include <memory>
#include <mutex>

namespace Gateway::Discovery {

// DNS service discovery for the providers that ask for it: keeps each one's server set
// current from its DnsWatcher's answers and tells the runtime when a set changed, so it
// re-compiles the policy with the provider expanded into one backend per server.
//
// Threads: configure() and the readers run on any thread; answers arrive on the
// watcher's thread, which also runs the `changed` callback (outside this class's lock).
class DiscoveryService final {
public:
    // A provider's set changed: re-compile and publish (slow start for `change.added`).
    using Changed = std::function<void(const QString &provider, const ServerChange &change)>;
    // For the event log: kind ("discovery.changed", ...), subject (the provider), detail JSON.
    using Events = std::function<void(const QString &kind, const QString &subject, const QByteArray &detail)>;

    DiscoveryService(Changed changed, Events events);
    ~DiscoveryService(); // joins the resolution thread before the state goes
    DiscoveryService(const DiscoveryService &) = delete;
    DiscoveryService &operator=(const DiscoveryService &) = delete;

    // Watches the providers of `policy` that have discovery. A provider whose question
    // (type, name, port, nameserver) is unchanged keeps its servers; a new or changed one
    // starts with none known and is resolved at once.
    void configure(const Config::Policy &policy);

    // The known servers, by provider (providers with none known are absent).
    ServerSets servers() const;
    // Providers with discovery and no server known yet: the runtime refuses their targets.
    QSet<QString> awaitingServers() const;

    void appendMetrics(QByteArray &out) const;
    // /admin/v1/state's "discovery": per provider its servers, the ones draining (with the
    // requests still in flight on them, from `inFlight` by server provider name) and the
    // resolutions' outcome.
    QJsonArray stateJson(const std::function<int(const QString &serverProvider)> &inFlight) const;

private:
    void onAnswer(const QString &provider, const DnsAnswer &answer);

    Changed m_changed;
    Events m_events;
    mutable std::mutex m_mutex;
    std::map<QString, ProviderServers> m_providers;
    std::unique_ptr<DnsWatcher> m_watcher; // last: its thread reports into everything above
};

// The DNS question a provider's discovery asks: `a` takes the host and port of base_url.
DnsQuestion questionFor(const Config::Provider &provider);

} // namespace Gateway::Discovery
