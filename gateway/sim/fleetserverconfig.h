#pragma once

#include "sim/fleet/serverconfig.h"

#include <QByteArray>

namespace Gateway::Sim {

// How a fleet-mode server behaves: the fleet simulator's engine model, run on the wall
// clock at a chosen speed.
struct FleetServerConfig {
    // KV geometry, batch limits and step-time coefficients (vLLM V1 meanings).
    Fleet::ServerConfig engine;
    // Wall seconds per simulated second: 0.1 runs the engine ten times faster than a
    // real GPU would, so tests and benchmarks stay short. Must be > 0.
    double timeScale = 1.0;
    // The served model: /v1/models, the metrics' model_name and the seed of the engine's
    // block hashes (as in the in-process fleet, FleetConfig::model).
    QByteArray model = QByteArrayLiteral("meta-llama/Llama-3.1-8B-Instruct");
    // Tokens generated when a request sets no max_tokens.
    int defaultMaxTokens = 16;
};

} // namespace Gateway::Sim
