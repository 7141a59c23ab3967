#pragma once

// Renders a Policy as the policy document of docs/CONFIG.md, for GET /admin/v1/policy,
// `switchyard export` and the import preview. Every key is written, defaults included,
// in the documented order, so the document is explicit and parsePolicy() reads it back
// to an equal Policy (with SecretRendering::Included).

#include "policy.h"

#include <QByteArray>

namespace Gateway::Config {

enum class SecretRendering {
    Redacted, // provider secrets, admin_token and virtual keys become "***"
    Included, // plaintext as held; a virtual key known only by digest becomes key_sha256
};

QByteArray toYaml(const Policy &policy, SecretRendering secrets);

// The same document as JSON (JSON is YAML 1.2, so parsePolicy() reads it too).
QByteArray toJson(const Policy &policy, SecretRendering secrets);

} // namespace Gateway::Config
