#pragma once

#include "dnsresolver.h"
#include "serveraddress.h"

#include "config/policy.h"

#include <QString>

#include <cstdint>
#include <map>
#include <vector>

namespace Gateway::Discovery {

// What changed in one provider's server set after an answer.
struct ServerChange {
    std::vector<ServerAddress> added;   // new: they join in slow start
    std::vector<ServerAddress> rejoined; // back within drain_ms: they keep their state, no slow start
    std::vector<ServerAddress> removed;  // vanished: draining
    // The first set known: nothing was serving before, so nobody ramps (as Envoy does
    // not slow-start the hosts of a cluster's initialisation).
    bool initial = false;
    bool changed() const { return !added.empty() || !rejoined.empty() || !removed.empty(); }
};

// One provider's discovered servers and how its resolutions went. A plain value guarded
// by DiscoveryService. The rule that makes discovery safe lives in apply(): an answer
// that failed or came back empty never changes the set (the last known servers keep
// serving); only a non-empty answer replaces it.
class ProviderServers final {
public:
    ProviderServers(Config::Discovery settings, DnsQuestion question);

    const Config::Discovery &settings() const { return m_settings; }
    // New interval, slow start or drain (the question itself unchanged).
    void setSettings(Config::Discovery settings) { m_settings = std::move(settings); }
    const DnsQuestion &question() const { return m_question; }

    ServerChange apply(const DnsAnswer &answer, qint64 nowMs);

    bool known() const { return m_known; } // a non-empty answer has been seen
    const std::vector<ServerAddress> &servers() const { return m_servers; }
    qint64 joinedAtMs(const ServerAddress &server) const;
    struct Draining {
        ServerAddress server;
        qint64 sinceMs = 0;
    };
    // Vanished less than drain_ms ago.
    std::vector<Draining> draining(qint64 nowMs) const;

    std::uint64_t resolutions(DnsAnswer::Result result) const { return m_counts[static_cast<std::size_t>(result)]; }
    // The failure or empty answer that is keeping the last known set, if the latest
    // resolution was one; empty once an answer succeeds again.
    const QString &lastError() const { return m_lastError; }
    qint64 lastResolutionMs() const { return m_lastResolutionMs; }
    // True for the first failed or empty answer after a good one (or after start): the
    // one that is reported as an event.
    bool failureStarted() const { return m_failureStarted; }
    bool recovered() const { return m_recovered; }

private:
    Config::Discovery m_settings;
    DnsQuestion m_question;
    bool m_known = false;
    std::vector<ServerAddress> m_servers;
    std::map<ServerAddress, qint64> m_joinedAtMs;
    std::map<ServerAddress, qint64> m_vanishedAtMs;
    std::uint64_t m_counts[3] = {0, 0, 0};
    QString m_lastError;
    qint64 m_lastResolutionMs = -1;
    bool m_failing = false;
    bool m_failureStarted = false;
    bool m_recovered = false;
};

} // namespace Gateway::Discovery
