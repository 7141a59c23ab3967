#include "discoveryservice.h"

#include "metrics/exposition.h"

#include "util/jsonwriter.h"

#include <QJsonObject>
#include <QUrl>

#include <chrono>

namespace Gateway::Discovery {

namespace {

qint64 nowMs()
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

QByteArray serverList(const std::vector<ServerAddress> &servers)
{
    QByteArray out = "[";
    for (const ServerAddress &server : servers) {
        out += (out.size() > 1 ? "," : "") + Json::quoted(server.hostPort().toUtf8());
    }
    return out + ']';
}

const char *resultName(DnsAnswer::Result result)
{
    switch (result) {
    case DnsAnswer::Result::Ok: return "ok";
    case DnsAnswer::Result::Empty: return "empty";
    case DnsAnswer::Result::Error: return "error";
    }
    return "error";
}

} // namespace

DnsQuestion questionFor(const Config::Provider &provider)
{
    DnsQuestion question;
    const Config::Discovery &discovery = *provider.discovery;
    question.type = discovery.type;
    question.nameserver = discovery.nameserver;
    const QUrl base(QString::fromUtf8(provider.baseUrl));
    if (discovery.type == Config::Discovery::Type::Srv) {
        question.name = discovery.name;
    } else {
        question.name = base.host();
        question.port = static_cast<quint16>(base.port(base.scheme() == u"https" ? 443 : 80));
    }
    // A resolution must end well before the next is due; the library counts in seconds.
    question.timeoutSeconds = discovery.intervalMs < 2000 ? 1 : 2;
    return question;
}

DiscoveryService::DiscoveryService(Changed changed, Events events)
    : m_changed {std::move(changed)}
    , m_events {std::move(events)}
    , m_watcher {std::make_unique<DnsWatcher>(
          [this](const QString &provider, const DnsAnswer &answer) { onAnswer(provider, answer); })}
{
}

DiscoveryService::~DiscoveryService()
{
    m_watcher.reset();
}

void DiscoveryService::configure(const Config::Policy &policy)
{
    std::vector<DnsWatcher::Watch> watches;
    {
        const std::lock_guard lock {m_mutex};
        std::map<QString, ProviderServers> providers;
        for (const Config::Provider &provider : policy.providers) {
            if (!provider.discovery) {
                continue;
            }
            DnsQuestion question = questionFor(provider);
            watches.push_back({provider.name, question, provider.discovery->intervalMs});
            const auto existing = m_providers.find(provider.name);
            const bool sameQuestion = existing != m_providers.end() &&
                                      DnsWatcher::Watch {provider.name, existing->second.question(), 0} ==
                                          DnsWatcher::Watch {provider.name, question, 0};
            if (sameQuestion) {
                // Only timing settings may differ: the servers and their history stay.
                ProviderServers kept = existing->second;
                kept.setSettings(*provider.discovery);
                providers.emplace(provider.name, std::move(kept));
            } else {
                providers.emplace(provider.name, ProviderServers {*provider.discovery, std::move(question)});
            }
        }
        m_providers = std::move(providers);
    }
    m_watcher->setWatches(std::move(watches));
}

ServerSets DiscoveryService::servers() const
{
    const std::lock_guard lock {m_mutex};
    ServerSets sets;
    for (const auto &[name, provider] : m_providers) {
        if (provider.known()) {
            sets.emplace(name, provider.servers());
        }
    }
    return sets;
}

QSet<QString> DiscoveryService::awaitingServers() const
{
    const std::lock_guard lock {m_mutex};
    QSet<QString> names;
    for (const auto &[name, provider] : m_providers) {
        if (!provider.known()) {
            names.insert(name);
        }
    }
    return names;
}

void DiscoveryService::onAnswer(const QString &provider, const DnsAnswer &answer)
{
    ServerChange change;
    QByteArray failure;
    QByteArray recovery;
    {
        const std::lock_guard lock {m_mutex};
        const auto it = m_providers.find(provider);
        if (it == m_providers.end()) {
            return;
        }
        ProviderServers &servers = it->second;
        change = servers.apply(answer, nowMs());
        if (servers.failureStarted()) {
            failure = "{\"provider\":" + Json::quoted(provider.toUtf8()) + ",\"result\":\"" + resultName(answer.result) +
                      "\",\"error\":" + Json::quoted(answer.error.toUtf8()) +
                      ",\"kept_servers\":" + serverList(servers.servers()) + '}';
        }
        if (servers.recovered()) {
            recovery = "{\"provider\":" + Json::quoted(provider.toUtf8()) +
                       ",\"servers\":" + serverList(servers.servers()) + '}';
        }
    }
    if (!failure.isEmpty()) {
        m_events(QStringLiteral("discovery.failed"), provider, failure);
    }
    if (!recovery.isEmpty()) {
        m_events(QStringLiteral("discovery.recovered"), provider, recovery);
    }
    if (!change.changed()) {
        return;
    }
    // Re-compiled before the event is written: once it is in the log, requests see the set.
    m_changed(provider, change);
    std::vector<ServerAddress> added = change.added;
    added.insert(added.end(), change.rejoined.begin(), change.rejoined.end());
    m_events(QStringLiteral("discovery.changed"), provider,
             "{\"provider\":" + Json::quoted(provider.toUtf8()) + ",\"added\":" + serverList(added) +
                 ",\"removed\":" + serverList(change.removed) + '}');
}

void DiscoveryService::appendMetrics(QByteArray &out) const
{
    const std::lock_guard lock {m_mutex};
    if (m_providers.empty()) {
        return;
    }
    out += "# HELP switchyard_discovery_servers Servers of a provider found by DNS discovery and receiving new requests.\n"
           "# TYPE switchyard_discovery_servers gauge\n";
    for (const auto &[name, provider] : m_providers) {
        out += "switchyard_discovery_servers{provider=\"" + Metrics::escapeLabelValue(name.toUtf8()) + "\"} " +
               QByteArray::number(static_cast<qulonglong>(provider.servers().size())) + '\n';
    }
    out += "# HELP switchyard_discovery_draining_servers Servers that vanished from DNS less than drain_ms ago.\n"
           "# TYPE switchyard_discovery_draining_servers gauge\n";
    const qint64 now = nowMs();
    for (const auto &[name, provider] : m_providers) {
        out += "switchyard_discovery_draining_servers{provider=\"" + Metrics::escapeLabelValue(name.toUtf8()) + "\"} " +
               QByteArray::number(static_cast<qulonglong>(provider.draining(now).size())) + '\n';
    }
    out += "# HELP switchyard_discovery_resolutions_total DNS resolutions by outcome; empty and error keep the last "
           "known servers.\n# TYPE switchyard_discovery_resolutions_total counter\n";
    for (const auto &[name, provider] : m_providers) {
        for (const auto result : {DnsAnswer::Result::Ok, DnsAnswer::Result::Empty, DnsAnswer::Result::Error}) {
            out += "switchyard_discovery_resolutions_total{provider=\"" + Metrics::escapeLabelValue(name.toUtf8()) + "\",result=\"" +
                   resultName(result) + "\"} " + QByteArray::number(provider.resolutions(result)) + '\n';
        }
    }
}

QJsonArray DiscoveryService::stateJson(const std::function<int(const QString &serverProvider)> &inFlight) const
{
    const std::lock_guard lock {m_mutex};
    const qint64 now = nowMs();
    QJsonArray providers;
    for (const auto &[name, provider] : m_providers) {
        QJsonArray servers;
        for (const ServerAddress &server : provider.servers()) {
            const qint64 joined = provider.joinedAtMs(server);
            servers.append(QJsonObject {
                {QStringLiteral("server"), server.hostPort()},
                {QStringLiteral("backend_provider"), serverProviderName(name, server)},
                {QStringLiteral("age_ms"), joined < 0 ? QJsonValue(QJsonValue::Null) : QJsonValue(double(now - joined))},
                {QStringLiteral("in_flight"), inFlight(serverProviderName(name, server))},
            });
        }
        QJsonArray draining;
        for (const auto &entry : provider.draining(now)) {
            draining.append(QJsonObject {
                {QStringLiteral("server"), entry.server.hostPort()},
                {QStringLiteral("backend_provider"), serverProviderName(name, entry.server)},
                {QStringLiteral("vanished_ms_ago"), double(now - entry.sinceMs)},
                {QStringLiteral("in_flight"), inFlight(serverProviderName(name, entry.server))},
            });
        }
        const Config::Discovery &settings = provider.settings();
        providers.append(QJsonObject {
            {QStringLiteral("provider"), name},
            {QStringLiteral("type"), settings.type == Config::Discovery::Type::Srv ? QStringLiteral("srv")
                                                                                   : QStringLiteral("a")},
            {QStringLiteral("name"), provider.question().name},
            {QStringLiteral("known"), provider.known()},
            {QStringLiteral("servers"), servers},
            {QStringLiteral("draining"), draining},
            {QStringLiteral("last_error"), provider.lastError().isEmpty() ? QJsonValue(QJsonValue::Null)
                                                                          : QJsonValue(provider.lastError())},
            {QStringLiteral("resolutions"),
             QJsonObject {{QStringLiteral("ok"), double(provider.resolutions(DnsAnswer::Result::Ok))},
                          {QStringLiteral("empty"), double(provider.resolutions(DnsAnswer::Result::Empty))},
                          {QStringLiteral("error"), double(provider.resolutions(DnsAnswer::Result::Error))}}},
        });
    }
    return providers;
}

} // namespace Gateway::Discovery
