#pragma once

#include "runtime/gatewayruntime.h"

#include <QByteArray>

#include <memory>

namespace TestSupport {

// Parses `yaml` as a policy (failing the test on a config error), forces
// gateway.listen to 127.0.0.1:0 and starts an embedded gateway with `threads` workers.
// Returns nullptr (after QFAIL-style reporting via qWarning) if anything fails.
std::unique_ptr<Gateway::GatewayRuntime> startGateway(const QByteArray &yaml, int threads = 1);

} // namespace TestSupport
