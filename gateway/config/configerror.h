#pragma once

#include <QString>

namespace Gateway::Config {

// A configuration problem, located precisely enough for an operator to fix it:
// "policy.yaml:12:7: routes[0].targets[1].weight: must be greater than 0".
struct ConfigError {
    QString source; // file name or "<admin api>"
    int line = 0;   // 1-based; 0 = unknown
    int column = 0; // 1-based; 0 = unknown
    QString field;  // dotted path, e.g. routes[0].targets[1].weight
    QString message;

    QString toString() const;
};

} // namespace Gateway::Config
