#pragma once

// The other half of redaction: a document fetched with secrets shown as "***" can be
// sent back unchanged, and every "***" keeps the value already stored.

#include "configerror.h"
#include "policy.h"
#include "util/expected.h"

namespace Gateway::Config {

// Replaces every "***" in `incoming` with the stored value: provider key secrets by
// provider name and key name, gateway.admin_token, virtual keys by name (their
// plaintext or digest), tracing.headers by header name and MCP server header values by
// server and header name. A "***" with nothing stored to keep is an error naming the field.
// Resolving against an empty Policy therefore rejects any placeholder left in a document.
Expected<Policy, ConfigError> resolveRedactedSecrets(Policy incoming, const Policy &stored);

} // namespace Gateway::Config
