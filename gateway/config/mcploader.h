#pragma once

#include "documentreader.h"
#include "policy.h"

namespace Gateway::Config {

// The top-level `mcp_servers:` list (docs/MCP.md): name, urls, headers, allowed_tools,
// timeout_ms, session_ttl_ms per server.
std::vector<McpServer> parseMcpServers(const DocumentReader &reader, const YAML::Node &node);

// `mcp_servers:` and `mcp_tools:` of a virtual key or a team, when present.
void parseMcpAccess(const DocumentReader &reader, const YAML::Node &ownerNode, const QString &field, McpAccess &out);

// Names unique; every key's and team's mcp_servers and mcp_tools name a configured
// server.
void validateMcpReferences(const DocumentReader &reader, const YAML::Node &root, const Policy &policy);

} // namespace Gateway::Config
