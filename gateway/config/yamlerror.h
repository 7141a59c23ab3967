#pragma once

#include "configerror.h"

#include <yaml-cpp/yaml.h>

namespace Gateway::Config {

// A ConfigError located at `node` (1-based line and column from yaml-cpp's mark). Shared
// by every reader of YAML documents so their errors read the same.
inline ConfigError errorAt(const YAML::Node &node, const QString &source, const QString &field, const QString &message)
{
    ConfigError error;
    error.source = source;
    const YAML::Mark mark = node.Mark();
    if (mark.line >= 0) {
        error.line = mark.line + 1;
        error.column = mark.column + 1;
    }
    error.field = field;
    error.message = message;
    return error;
}

} // namespace Gateway::Config
