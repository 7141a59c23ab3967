#pragma once

#include "fleetpolicies.h"
#include "oracleprefixsource.h"
#include "runresult.h"
#include "serverconfig.h"
#include "servermodel.h"
#include "simtime.h"
#include "syntheticprompt.h"
#include "workload.h"

#include "routing/prefilldecode.h"

#include <QByteArray>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace Gateway::Sim::Fleet {

struct FleetConfig {
    int servers = 8;
    ServerConfig server; // every server alike; a workload's kvBlocksPerServer overrides numGpuBlocks
    // How often the router scrapes each engine's /metrics; 0 = "oracle-fresh": read the
    // engines' state at every decision.
    SimTime scrapeInterval = 250 * MICROS_PER_MILLI;
    // A request still unfinished this long after arrival is abandoned by its client
    // (counted as a timeout; the server aborts it and frees its KV).
    SimTime requestTimeout = 120 * MICROS_PER_SECOND;
    QByteArray model = QByteArrayLiteral("meta-llama/Llama-3.1-8B-Instruct"); // seeds the block hashes
    std::uint64_t routerSeed = 1; // the policy's Rng (replica 0's; the others' derive from it)
    // Gateway replicas behind an L4 load balancer, sharing no state: each has its own
    // policy instance (its own approximate prefix index), its own Rng, its own in-flight
    // counters (what it sent) and its own /metrics scrapes, replica r's schedule shifted
    // by r/replicas of the scrape interval. Each arrival goes to a replica drawn uniformly
    // at random (seeded from routerSeed; sessions are not pinned). The servers are shared.
    // 1 = one router, as before: no draw is made.
    int replicas = 1;
    bool sendSessionKeys = true;  // RequestSummary::sessionKey from the workload's session ids
    // Heterogeneous fleets: server i's step coefficients (beta0..2) are multiplied by
    // stepScale[i % size] (2 = a GPU half as fast); empty = every server alike.
    std::vector<double> stepScale;
    // Prefill/decode disaggregation: servers 0 .. prefillServers-1 form the prefill pool,
    // the rest decode; 0 = every server aggregated. `pd` decides per request, as the
    // gateway does (Routing::decidePrefillDecode on the chosen decode server's cached
    // tokens, then Routing::comparePrefillWork against the first-ranked prefill server).
    int prefillServers = 0;
    Routing::PrefillDecodeSettings pd;
    // Server 0 restarts at this time (ServerModel::restart); < 0 = never. Each router sees
    // it at its next scrape (the prefix-cache counters went back) and, if
    // forgetOnRestart, clears what its prefix index believed that server held, as the
    // gateway's snapshot rebuild does.
    SimTime restartAt = -1;
    bool forgetOnRestart = true;
};

// One simulated run: a fleet of ServerModels behind one or more routers (gateway
// replicas, FleetConfig::replicas), on a virtual clock.
//
// With a prefill pool (FleetConfig::prefillServers), the policy ranks the decode servers;
// when the decider disaggregates, it ranks the prefill servers too, the request is
// prefilled there (max_tokens 1) and, when that step ends, sent to the decode server
// with its prompt's KV imported (EngineRequest::remotePrefill, after the transfer time)
// as the gateway's DisaggregatedPrefill does. TTFT counts from the arrival to the decode
// server's first token.
//
// Discrete events, processed in time order; at equal times: server step boundaries
// (first tokens, completions) first, then client timeouts, then metric scrapes, then
// arrivals. For each arrival a replica is drawn (when there are several); its router
// renders the prompt, hashes it with the gateway's PromptBlockHasher (only for policies
// that use prefix locality), builds the BackendSnapshot from its RouterView (its own
// in-flight counters + its last scrapes), calls RoutePolicy::rank() and sends the
// request to the first choice. There is no retry and no fallback: a request stays where
// it was sent, and its first token and completion update the counters of the replica
// that sent it. In P/D fleets both steps of a request go through the same replica.
//
//     FleetSimulation sim(config, workload);
//     auto policies = sim.makePolicies("prefix_aware"); // one per replica
//     RunResult result = summarize(sim.run(*policies));
//
// Deterministic: the same workload, config and policy give the same RunRecord, except
// decisionMicros (wall clock).
class FleetSimulation final {
public:
    // `workload` must outlive the simulation.
    FleetSimulation(const FleetConfig &config, const Workload &workload);
    ~FleetSimulation();
    FleetSimulation(const FleetSimulation &) = delete;
    FleetSimulation &operator=(const FleetSimulation &) = delete;

    // The oracle source and cache geometry, for makeFleetPolicy().
    PolicyEnvironment policyEnvironment();

    // The named policy (fleetpolicies.h) built once per replica, each instance with its
    // own state (prefix index, round-robin cursor); nullopt if the name is unknown.
    std::optional<std::vector<FleetPolicy>> makePolicies(std::string_view name);

    // Runs the whole workload to the end (every request completed, timed out or
    // rejected), `replicas[r]` routing for replica r. Call once per simulation. The
    // number of policies must be FleetConfig::replicas (a programming error otherwise).
    RunRecord run(std::span<FleetPolicy> replicas);
    // The same for a single replica (FleetConfig::replicas 1).
    RunRecord run(FleetPolicy &policy);

    int replicaCount() const { return std::max(1, m_config.replicas); }

    // Server i's configuration (the step coefficients differ in heterogeneous fleets).
    const ServerConfig &serverConfigOf(int index) const { return m_servers[static_cast<std::size_t>(index)]->config(); }
    const ServerModel &server(int index) const { return *m_servers[static_cast<std::size_t>(index)]; }
    int serverCount() const { return static_cast<int>(m_servers.size()); }
    const ServerConfig &serverConfig() const { return m_serverConfig; }

private:
    class Run;

    FleetConfig m_config;
    ServerConfig m_serverConfig;
    const Workload &m_workload;
    std::vector<std::unique_ptr<ServerModel>> m_servers;
    std::unique_ptr<OraclePrefixSource> m_oracle;
};

// Builds the fleet and the named policy (fleetpolicies.h) and runs the workload;
// nullopt if the name is unknown.
std::optional<RunResult> simulateFleet(const FleetConfig &config, const Workload &workload, std::string_view policyName);

} // namespace Gateway::Sim::Fleet
