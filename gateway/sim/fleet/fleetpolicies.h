#pragma once

#include "routing/prefixmatch.h"
#include "routing/routepolicy.h"

#include <QString>
#include <QStringList>

#include <memory>
#include <optional>
#include <string_view>

namespace Gateway::Sim::Fleet {

// What a policy may be built against in a simulated fleet.
struct PolicyEnvironment {
    Routing::PrefixMatchSource *oracle = nullptr; // the servers' true caches (labelled "oracle")
    int servers = 0;
    int blockSize = 16;          // tokens per KV block on the servers
    int kvBlocksPerServer = 0;   // what each server's /metrics reports (vllm:cache_config_info)
};

// A policy under test, with whatever it owns.
struct FleetPolicy {
    QString name;
    // Declared before the policy, so it is destroyed after it: the policy holds a
    // pointer to it.
    std::unique_ptr<Routing::PrefixMatchSource> index;
    std::unique_ptr<Routing::RoutePolicy> policy;
    bool usesPromptBlocks = false; // the driver hashes prompts only for these
    bool oracle = false;           // reads true cache state: not achievable without KV events
};

// The one place the benchmark's policy names are defined:
//  - the gateway's basic strategies, with their configuration defaults:
//    round_robin, random, least_request, p2c;
//  - every GPU preset of routing/gpupresets.h, with its published defaults, over its own
//    approximate PrefixIndex sized like each server's KV cache (the EPP's autoTune
//    from vllm:cache_config_info): prefix_aware, sglang_cache_aware, ...;
//  - "<preset>_oracle": the same preset fed by the servers' true caches instead.
std::optional<FleetPolicy> makeFleetPolicy(std::string_view name, const PolicyEnvironment &environment);
QStringList fleetPolicyNames();

} // namespace Gateway::Sim::Fleet
