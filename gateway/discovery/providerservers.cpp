#include "providerservers.h"

#include <algorithm>

namespace Gateway::Discovery {

ProviderServers::ProviderServers(Config::Discovery settings, DnsQuestion question)
    : m_settings {std::move(settings)}
    , m_question {std::move(question)}
{
}

ServerChange ProviderServers::apply(const DnsAnswer &answer, qint64 nowMs)
{
    ServerChange change;
    ++m_counts[static_cast<std::size_t>(answer.result)];
    m_lastResolutionMs = nowMs;
    m_failureStarted = false;
    m_recovered = false;
    if (answer.result != DnsAnswer::Result::Ok) {
        m_failureStarted = !m_failing;
        m_failing = true;
        m_lastError = answer.error;
        return change;
    }
    m_recovered = m_failing && m_known;
    change.initial = !m_known;
    m_failing = false;
    m_lastError.clear();
    for (const ServerAddress &server : answer.servers) {
        if (std::binary_search(m_servers.begin(), m_servers.end(), server)) {
            continue;
        }
        const auto vanished = m_vanishedAtMs.find(server);
        if (vanished != m_vanishedAtMs.end() && nowMs - vanished->second < m_settings.drainMs) {
            change.rejoined.push_back(server);
        } else {
            change.added.push_back(server);
            m_joinedAtMs[server] = nowMs;
        }
        if (vanished != m_vanishedAtMs.end()) {
            m_vanishedAtMs.erase(vanished);
        }
    }
    for (const ServerAddress &server : m_servers) {
        if (!std::binary_search(answer.servers.begin(), answer.servers.end(), server)) {
            change.removed.push_back(server);
            m_vanishedAtMs[server] = nowMs;
            m_joinedAtMs.erase(server);
        }
    }
    // Forget what drained long ago, so the map stays the size of recent churn.
    for (auto it = m_vanishedAtMs.begin(); it != m_vanishedAtMs.end();) {
        it = nowMs - it->second >= m_settings.drainMs ? m_vanishedAtMs.erase(it) : std::next(it);
    }
    m_servers = answer.servers; // sorted and unique (resolve())
    m_known = true;
    return change;
}

qint64 ProviderServers::joinedAtMs(const ServerAddress &server) const
{
    const auto it = m_joinedAtMs.find(server);
    return it == m_joinedAtMs.end() ? -1 : it->second;
}

std::vector<ProviderServers::Draining> ProviderServers::draining(qint64 nowMs) const
{
    std::vector<Draining> out;
    for (const auto &[server, sinceMs] : m_vanishedAtMs) {
        if (nowMs - sinceMs < m_settings.drainMs) {
            out.push_back({server, sinceMs});
        }
    }
    return out;
}

} // namespace Gateway::Discovery
