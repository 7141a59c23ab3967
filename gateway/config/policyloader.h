#pragma once

#include "configerror.h"
#include "policy.h"
#include "util/expected.h"

#include <QByteArray>
#include <QString>

#include <functional>
#include <optional>

namespace Gateway::Config {

// Looks up an environment variable; injected so tests do not depend on the process env.
using EnvLookup = std::function<std::optional<QByteArray>(const QString &name)>;

EnvLookup processEnvironment();

// Parses and validates a policy document. `${VAR}` and `${VAR:-default}` in scalars
// expand from `env`; an unset variable without a default is an error naming the field.
// Unknown keys, wrong types and invalid values are errors naming source:line and field.
Expected<Policy, ConfigError> parsePolicy(const QByteArray &yaml, const QString &sourceName, const EnvLookup &env);

Expected<Policy, ConfigError> loadPolicyFile(const QString &path, const EnvLookup &env);

} // namespace Gateway::Config
