#pragma once

#include "simtime.h"
#include "syntheticprompt.h"

#include <QByteArray>
#include <QString>

#include <cstdint>
#include <optional>
#include <vector>

namespace Gateway::Sim::Fleet {

// One request of a workload, before it is rendered: its prompt is a list of seeded text
// spans (system prompt, history, question...), so a workload of tens of thousands of
// long prompts stays small in memory and identical for every policy it is replayed to.
struct SimRequest {
    std::uint64_t id = 0; // index in the workload
    SimTime arrival = 0;
    std::vector<TextSpan> prompt;
    // The answer the server will generate (tokens == outputTokens). Rendered only when
    // the workload reuses answers (multi-turn): a later prompt then contains it.
    TextSpan completion;
    int promptTokens = 0;
    int outputTokens = 0;
    int prefixGroup = -1; // shared system prompt, -1 = none
    QByteArray session;   // conversation id, empty = none
};

struct Workload {
    QString name;
    std::vector<SimRequest> requests; // ascending arrival
    // Multi-turn: answers come back in later prompts, so the servers hash their decode
    // blocks too.
    bool completionsReused = false;
    // KV blocks per server the workload is sized for (W2: contexts + concurrent questions =
    // 73% of the fleet's cache); nullopt = the fleet's default.
    std::optional<int> kvBlocksPerServer;
    double offeredRate = 0.0; // mean arrivals per second the generator aimed at (0 = burst)
};

} // namespace Gateway::Sim::Fleet
