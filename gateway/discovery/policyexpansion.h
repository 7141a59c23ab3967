#pragma once

#include "serveraddress.h"

#include "config/policy.h"

#include <map>
#include <vector>

namespace Gateway::Discovery {

// Discovered servers by provider name; a provider missing here has none known yet.
using ServerSets = std::map<QString, std::vector<ServerAddress>>;

// The name of one discovered server as a provider: "vllm@10.0.0.5:8000". Its backends'
// labels follow ("vllm@10.0.0.5:8000/llama-3-8b").
QString serverProviderName(const QString &provider, const ServerAddress &server);
// The provider a discovered server's name belongs to ("vllm" for "vllm@10.0.0.5:8000").
QString discoveredProviderOf(const QString &serverProviderName);
// `url` with its host:port replaced by the server's (scheme, path and query kept).
QByteArray urlOnServer(const QByteArray &url, const ServerAddress &server, bool keepPort);

// The policy the route table is compiled from: each provider with discovery and known
// servers becomes one provider per server (same keys, headers, timeouts; base_url on the
// server; metrics_url on the server's address, its own port kept), and every target
// naming it one target per server with the target's weight shared equally among them
// (max_concurrency stays per server: it is a property of the machine). Rule and split
// actions naming "provider/model" name every server's target. Providers with discovery
// but no known server stay as configured, for the runtime to refuse with 503.
Config::Policy expandDiscoveredProviders(const Config::Policy &policy, const ServerSets &servers);

} // namespace Gateway::Discovery
