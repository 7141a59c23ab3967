#include "policyexpansion.h"

#include <QUrl>

namespace Gateway::Discovery {

QString serverProviderName(const QString &provider, const ServerAddress &server)
{
    return provider + u'@' + server.hostPort();
}

QString discoveredProviderOf(const QString &serverProviderName)
{
    return serverProviderName.section(u'@', 0, 0);
}

QByteArray urlOnServer(const QByteArray &url, const ServerAddress &server, bool keepPort)
{
    QUrl parsed(QString::fromUtf8(url));
    const int port = keepPort ? parsed.port() : server.port;
    parsed.setHost(server.address);
    parsed.setPort(port);
    return parsed.toString(QUrl::FullyEncoded).toUtf8();
}

namespace {

QStringList expandedLabels(const QStringList &labels, const QString &provider, const std::vector<ServerAddress> &servers)
{
    QStringList out;
    const QString prefix = provider + u'/';
    for (const QString &label : labels) {
        if (!label.startsWith(prefix)) {
            out << label;
            continue;
        }
        const QString model = label.mid(prefix.size());
        for (const ServerAddress &server : servers) {
            out << serverProviderName(provider, server) + u'/' + model;
        }
    }
    return out;
}

void expandActions(Config::Route &route, const QString &provider, const std::vector<ServerAddress> &servers)
{
    for (auto &rule : route.rules) {
        rule.action.targets = expandedLabels(rule.action.targets, provider, servers);
    }
    for (auto &arm : route.split.arms) {
        arm.action.targets = expandedLabels(arm.action.targets, provider, servers);
    }
}

} // namespace

Config::Policy expandDiscoveredProviders(const Config::Policy &policy, const ServerSets &servers)
{
    Config::Policy expanded = policy;
    expanded.providers.clear();
    for (const Config::Provider &provider : policy.providers) {
        const auto known = servers.find(provider.name);
        if (!provider.discovery || known == servers.end() || known->second.empty()) {
            expanded.providers.push_back(provider);
            continue;
        }
        for (const ServerAddress &server : known->second) {
            Config::Provider copy = provider;
            copy.name = serverProviderName(provider.name, server);
            copy.baseUrl = urlOnServer(provider.baseUrl, server, false);
            if (!provider.metricsUrl.isEmpty()) {
                copy.metricsUrl = urlOnServer(provider.metricsUrl, server, true);
            }
            expanded.providers.push_back(std::move(copy));
        }
        for (Config::Route &route : expanded.routes) {
            std::vector<Config::Target> targets;
            for (const Config::Target &target : route.targets) {
                if (target.provider != provider.name) {
                    targets.push_back(target);
                    continue;
                }
                for (const ServerAddress &server : known->second) {
                    Config::Target copy = target;
                    copy.provider = serverProviderName(provider.name, server);
                    copy.weight = target.weight / static_cast<double>(known->second.size());
                    targets.push_back(std::move(copy));
                }
            }
            route.targets = std::move(targets);
            expandActions(route, provider.name, known->second);
        }
    }
    return expanded;
}

} // namespace Gateway::Discovery
