#include "fleetdriver.h"

#include "routerview.h"

#include "routing/promptblocks.h"
#include "routing/rng.h"

#include <QtGlobal>

#include <algorithm>
#include <chrono>
#include <limits>
#include <numeric>
#include <optional>
#include <utility>

namespace Gateway::Sim::Fleet {

namespace {

// A seed of its own for each replica's Rng and for the load balancer's draw, derived
// from routerSeed so that one number still reproduces a run. Replica 0 keeps routerSeed
// itself (a 1-replica run is the single router it always was). Mixed by SplitMix64's
// finalizer: XoshiroRng expands its seed with SplitMix64 too, so seeds one increment
// apart would share three of their four state words.
std::uint64_t derivedSeed(std::uint64_t routerSeed, std::uint64_t stream)
{
    std::uint64_t z = routerSeed ^ (stream * 0xd1b54a32d192ed03ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

constexpr std::uint64_t BALANCER_STREAM = 0xba1a;

} // namespace

// The state of one run: per-request bookkeeping and the event loop.
class FleetSimulation::Run {
    // One gateway replica: its policy instance, its view of the fleet, its randomness.
    struct Replica {
        Replica(FleetPolicy &fleetPolicy, int backends, SimTime scrapeInterval, SimTime phase, std::uint64_t seed)
            : policy(fleetPolicy)
            , view(backends, scrapeInterval, phase)
            , rng(seed)
            , restartsSeen(static_cast<std::size_t>(backends), 0)
        {
        }
        FleetPolicy &policy;
        RouterView view;
        Routing::XoshiroRng rng;
        std::vector<std::int64_t> restartsSeen; // per backend, at the last scrape
    };

public:
    Run(FleetSimulation &sim, std::span<FleetPolicy> policies)
        : m_sim(sim)
        , m_config(sim.m_config)
        , m_requests(sim.m_workload.requests)
        , m_balancer(derivedSeed(sim.m_config.routerSeed, BALANCER_STREAM))
        , m_loads(m_requests.size())
        , m_prefillPending(m_requests.size(), false)
        , m_prefillTickets(m_requests.size())
    {
        const auto replicas = static_cast<SimTime>(policies.size());
        m_replicas.reserve(policies.size());
        for (std::size_t r = 0; r < policies.size(); ++r) {
            // Scrape loops started at different times: replica r's phase is r/R of the interval.
            const SimTime phase = sim.m_config.scrapeInterval * static_cast<SimTime>(r) / replicas;
            const std::uint64_t seed = r == 0 ? sim.m_config.routerSeed : derivedSeed(sim.m_config.routerSeed, r);
            m_replicas.push_back(std::make_unique<Replica>(policies[r], sim.serverCount(), sim.m_config.scrapeInterval, phase, seed));
        }
        m_record.requests.resize(m_requests.size());
        m_record.timeout = m_config.requestTimeout;
        m_record.decisionMicros.reserve(m_requests.size());
        const int prefillServers = std::clamp(sim.m_config.prefillServers, 0, sim.serverCount() - 1);
        for (int i = 0; i < sim.serverCount(); ++i) {
            m_targets.push_back({i, 1.0});
            (i < prefillServers ? m_prefillCandidates : m_candidates).push_back(i);
        }
        if (!m_prefillCandidates.empty()) {
            m_stages.resize(m_requests.size());
        }
        m_restartPending = m_config.restartAt >= 0;
    }

    RunRecord execute()
    {
        constexpr SimTime NEVER = std::numeric_limits<SimTime>::max();
        std::vector<std::unique_ptr<ServerModel>> &servers = m_sim.m_servers;
        while (true) {
            SimTime t = NEVER;
            if (m_nextArrival < m_requests.size()) {
                t = m_requests[m_nextArrival].arrival;
            }
            for (const auto &server : servers) {
                if (const auto next = server->nextEventTime()) {
                    t = std::min(t, *next);
                }
            }
            skipResolvedDeadlines();
            if (m_nextDeadline < m_nextArrival) {
                t = std::min(t, deadlineOf(m_nextDeadline));
            }
            if (t == NEVER) {
                break; // nothing left to arrive, run or time out
            }
            if (m_restartPending) {
                t = std::min(t, m_config.restartAt);
            }
            for (const auto &replica : m_replicas) {
                if (const auto scrape = replica->view.nextScrape()) {
                    t = std::min(t, *scrape);
                }
            }

            for (std::size_t i = 0; i < servers.size(); ++i) {
                const auto next = servers[i]->nextEventTime();
                if (next && *next == t) {
                    servers[i]->advance(t, m_report);
                    absorb(static_cast<int>(i), m_report);
                }
            }
            if (m_restartPending && m_config.restartAt <= t) {
                servers.front()->restart();
                m_restartPending = false;
            }
            while (m_nextDeadline < m_nextArrival && deadlineOf(m_nextDeadline) <= t) {
                if (m_record.requests[m_nextDeadline].fate == RequestFate::Pending) {
                    timeOut(m_nextDeadline);
                }
                ++m_nextDeadline;
            }
            for (const auto &replica : m_replicas) {
                for (const int backend : replica->view.takeDueScrapes(t)) {
                    replica->view.scrape(backend, servers[static_cast<std::size_t>(backend)]->status(), t);
                    forgetIfRestarted(*replica, backend);
                }
            }
            while (m_nextArrival < m_requests.size() && m_requests[m_nextArrival].arrival <= t) {
                dispatch(m_nextArrival++, t);
            }
        }
        for (const auto &server : servers) {
            m_record.servers.push_back(server->status());
        }
        return std::move(m_record);
    }

private:
    SimTime deadlineOf(std::size_t index) const { return m_requests[index].arrival + m_config.requestTimeout; }

    // What the gateway's SnapshotSource does when a scrape shows a restart.
    void forgetIfRestarted(Replica &replica, int backend)
    {
        const std::int64_t restarts = replica.view.restartsOf(backend);
        auto &seen = replica.restartsSeen[static_cast<std::size_t>(backend)];
        if (restarts > seen && m_config.forgetOnRestart && replica.policy.index) {
            replica.policy.index->clear(backend);
        }
        seen = restarts;
    }

    void skipResolvedDeadlines()
    {
        while (m_nextDeadline < m_nextArrival && m_record.requests[m_nextDeadline].fate != RequestFate::Pending) {
            ++m_nextDeadline;
        }
    }

    // What a load balancer in front of stateless replicas does: a uniform draw per
    // request. None with one replica, so its runs match the single router's exactly.
    int drawReplica()
    {
        if (m_replicas.size() == 1) {
            return 0;
        }
        const auto count = static_cast<double>(m_replicas.size());
        return std::min(static_cast<int>(m_balancer.uniform() * count), static_cast<int>(m_replicas.size()) - 1);
    }

    RouterView &viewOf(std::size_t index) { return m_replicas[static_cast<std::size_t>(m_record.requests[index].replica)]->view; }

    void dispatch(std::size_t index, SimTime now)
    {
        const SimRequest &request = m_requests[index];
        const int replicaIndex = drawReplica();
        m_record.requests[index].replica = replicaIndex;
        Replica &replica = *m_replicas[static_cast<std::size_t>(replicaIndex)];
        m_text.resize(0);
        for (const TextSpan &span : request.prompt) {
            m_renderer.append(m_text, span);
        }
        Routing::RequestSummary summary;
        summary.model = m_config.model;
        summary.estimatedPromptTokens = request.promptTokens;
        summary.maxTokens = request.outputTokens; // benchmark clients send max_tokens (and ignore EOS)
        summary.stream = true;
        if (m_config.sendSessionKeys) {
            summary.sessionKey = request.session;
        }
        if (replica.policy.usesPromptBlocks) {
            summary.promptBlocks = Routing::PromptBlockHasher::hash(m_config.model, m_text);
        }
        if (m_config.scrapeInterval <= 0) {
            for (int i = 0; i < m_sim.serverCount(); ++i) {
                replica.view.scrape(i, m_sim.server(i).status(), now);
                forgetIfRestarted(replica, i);
            }
        }
        const Routing::BackendSnapshot &snapshot = replica.view.snapshot(now);
        const auto started = std::chrono::steady_clock::now();
        const auto [backend, cached] = rank(replica, m_candidates, snapshot, summary);
        std::optional<std::pair<int, int>> prefill;
        if (!m_prefillCandidates.empty()) {
            const Routing::PdVerdict verdict = Routing::decidePrefillDecode(m_config.pd, request.promptTokens, cached);
            if (verdict.decision == Routing::PdDecision::Disaggregated) {
                prefill = rank(replica, m_prefillCandidates, snapshot, summary, false);
                // The prefill server's own backlog and cache, as the gateway weighs them.
                const Routing::PdWork work =
                    Routing::pdWorkFrom(snapshot, request.promptTokens, backend, cached, prefill->first, prefill->second);
                if (!Routing::comparePrefillWork(m_config.pd, work).allowsSplit) {
                    prefill.reset();
                } else if (replica.policy.index) {
                    // Committed: the look-ahead ranking did not record the placement.
                    replica.policy.index->record(prefill->first, summary.promptBlocks);
                }
            }
        }
        const auto elapsed = std::chrono::steady_clock::now() - started;
        m_record.decisionMicros.push_back(std::chrono::duration<double, std::micro>(elapsed).count());

        RequestOutcome &outcome = m_record.requests[index];
        outcome.backend = backend;
        outcome.arrival = request.arrival;

        EngineRequest engineRequest;
        engineRequest.id = index;
        engineRequest.promptText = m_text;
        if (m_sim.m_workload.completionsReused) {
            QByteArray completion;
            PromptRenderer::render(completion, request.completion.seed, request.completion.tokens);
            engineRequest.completionText = std::move(completion);
        }
        engineRequest.maxTokens = request.outputTokens;
        RequestLoad &load = m_loads[index];
        load.expected = summary.expectedTokens();
        load.decode = request.outputTokens;
        if (!prefill) {
            load.prefill = std::max(0, request.promptTokens - cached);
            sendToServer(index, backend, std::move(engineRequest), now);
            return;
        }
        // The prefill step: one token on the prefill server; the decode step waits for
        // it (prefillEnded), as the gateway's exchange does.
        outcome.disaggregated = true;
        Stage &stage = m_stages[index];
        stage.prefillBackend = prefill->first;
        stage.decode = std::move(engineRequest);
        stage.prefillLoad = {request.promptTokens + 1, std::max(0, request.promptTokens - prefill->second), 1};
        replica.view.dispatched(stage.prefillBackend, stage.prefillLoad, now);
        EngineRequest prefillRequest;
        prefillRequest.id = index | PREFILL_ID;
        prefillRequest.promptText = m_text;
        prefillRequest.maxTokens = 1;
        m_sim.m_servers[static_cast<std::size_t>(stage.prefillBackend)]->submit(prefillRequest, now);
    }

    // The replica's first choice among `candidates`, and its cached-token estimate there.
    // `record` false: a look-ahead ranking (the prefill pool), which the caller records.
    std::pair<int, int> rank(Replica &replica, const std::vector<int> &candidates, const Routing::BackendSnapshot &snapshot,
                             const Routing::RequestSummary &summary, bool record = true)
    {
        const Routing::RankInput input {m_targets, candidates, snapshot, summary, -1, 1, record};
        replica.policy.policy->rank(input, replica.rng, m_ranking);
        Q_ASSERT(!m_ranking.order.empty());
        const int target = m_ranking.order.empty() ? candidates.front() : m_ranking.order.front();
        const int cached = m_ranking.cachedPromptTokens.empty()
            ? 0
            : m_ranking.cachedPromptTokens[static_cast<std::size_t>(target)];
        return {m_targets[static_cast<std::size_t>(target)].backendId, cached};
    }

    void sendToServer(std::size_t index, int backend, EngineRequest &&request, SimTime now)
    {
        m_prefillTickets[index] = viewOf(index).dispatched(backend, m_loads[index], now);
        m_prefillPending[index] = true;
        m_sim.m_servers[static_cast<std::size_t>(backend)]->submit(request, now);
    }

    // The prefill step of request `index` produced its token at `now`: the decode server
    // pulls the KV and decodes (its own prefill load is nil).
    void prefillEnded(std::size_t index, SimTime now)
    {
        Stage &stage = m_stages[index];
        viewOf(index).finished(stage.prefillBackend, stage.prefillLoad, true); // its first token was its last
        stage.prefillBackend = -1;
        if (m_record.requests[index].fate != RequestFate::Pending) {
            return; // timed out while prefilling
        }
        m_loads[index].prefill = 0;
        EngineRequest decode = std::move(stage.decode);
        decode.remotePrefill = true;
        sendToServer(index, m_record.requests[index].backend, std::move(decode), now);
    }

    void absorb(int backend, const StepReport &report)
    {
        for (const std::uint64_t id : report.firstTokens) {
            if (id & PREFILL_ID) {
                continue; // a prefill step's token never reaches the client
            }
            m_record.requests[id].firstToken = report.time;
            if (m_prefillPending[id]) {
                viewOf(id).prefillDone(backend, m_loads[id], m_prefillTickets[id], report.time);
                m_prefillPending[id] = false;
            }
        }
        for (const FinishedRequest &done : report.finished) {
            if (done.id & PREFILL_ID) {
                prefillEnded(done.id & ~PREFILL_ID, report.time);
                continue;
            }
            RequestOutcome &outcome = m_record.requests[done.id];
            outcome.finished = report.time;
            outcome.outputTokens = done.generatedTokens;
            resolve(done.id, RequestFate::Completed);
        }
        for (const std::uint64_t id : report.rejected) {
            if (id & PREFILL_ID) {
                const std::size_t index = id & ~PREFILL_ID;
                viewOf(index).finished(m_stages[index].prefillBackend, m_stages[index].prefillLoad, true);
                resolve(index, RequestFate::Rejected); // still in its prefill step: no decode to settle
                m_stages[index].prefillBackend = -1;
                continue;
            }
            resolve(id, RequestFate::Rejected);
        }
        for (const TokenGap &gap : report.gaps) {
            m_record.interTokenGaps.add(static_cast<double>(gap.gap), static_cast<std::uint64_t>(gap.count));
        }
    }

    void timeOut(std::size_t index)
    {
        if (!m_stages.empty() && m_stages[index].prefillBackend >= 0) {
            // Still in its prefill step: only the prefill server knows it.
            Stage &stage = m_stages[index];
            m_sim.m_servers[static_cast<std::size_t>(stage.prefillBackend)]->abort(index | PREFILL_ID);
            viewOf(index).finished(stage.prefillBackend, stage.prefillLoad, true);
            stage.prefillBackend = -1;
            m_record.requests[index].fate = RequestFate::TimedOut;
            return;
        }
        const int backend = m_record.requests[index].backend;
        m_sim.m_servers[static_cast<std::size_t>(backend)]->abort(index);
        resolve(index, RequestFate::TimedOut);
    }

    void resolve(std::size_t index, RequestFate fate)
    {
        RequestOutcome &outcome = m_record.requests[index];
        outcome.fate = fate;
        if (!m_stages.empty() && m_stages[index].prefillBackend >= 0) {
            return; // nothing was sent to the decode server yet
        }
        viewOf(index).finished(outcome.backend, m_loads[index], m_prefillPending[index]);
        m_prefillPending[index] = false;
    }

    // Engine request ids of prefill steps: the request's index with this bit set.
    static constexpr std::uint64_t PREFILL_ID = std::uint64_t {1} << 62;

    // A disaggregated request between its two steps.
    struct Stage {
        int prefillBackend = -1; // >= 0 while the prefill step runs
        RequestLoad prefillLoad;
        EngineRequest decode;    // sent when the prefill step ends
    };

    FleetSimulation &m_sim;
    const FleetConfig &m_config;
    const std::vector<SimRequest> &m_requests;
    std::vector<std::unique_ptr<Replica>> m_replicas;
    Routing::XoshiroRng m_balancer; // the load balancer's draw among replicas
    std::vector<Routing::PolicyTarget> m_targets;
    std::vector<int> m_candidates;        // decode servers (every server when aggregated)
    std::vector<int> m_prefillCandidates; // the prefill pool; empty = aggregated
    std::vector<Stage> m_stages;          // per request, P/D fleets only
    Routing::Ranking m_ranking;
    PromptRenderer m_renderer;
    QByteArray m_text;
    StepReport m_report;
    std::vector<RequestLoad> m_loads;
    std::vector<bool> m_prefillPending;
    std::vector<Routing::PrefillTicket> m_prefillTickets; // of the step that waits for the first token
    RunRecord m_record;
    std::size_t m_nextArrival = 0;
    std::size_t m_nextDeadline = 0;
    bool m_restartPending = false; // FleetConfig::restartAt is still ahead
};

FleetSimulation::FleetSimulation(const FleetConfig &config, const Workload &workload)
    : m_config(config)
    , m_serverConfig(config.server)
    , m_workload(workload)
{
    if (workload.kvBlocksPerServer) {
        m_serverConfig.numGpuBlocks = *workload.kvBlocksPerServer;
    }
    std::vector<const ServerModel *> views;
    for (int i = 0; i < std::max(1, config.servers); ++i) {
        ServerConfig serverConfig = m_serverConfig;
        if (!config.stepScale.empty()) {
            const double scale = config.stepScale[static_cast<std::size_t>(i) % config.stepScale.size()];
            serverConfig.step.beta0 *= scale;
            serverConfig.step.beta1 *= scale;
            serverConfig.step.beta2 *= scale;
        }
        m_servers.push_back(std::make_unique<ServerModel>(serverConfig, config.model));
        views.push_back(m_servers.back().get());
    }
    m_oracle = std::make_unique<OraclePrefixSource>(std::move(views), m_serverConfig.blockSize * TOKEN_CHARS);
    Q_ASSERT(std::is_sorted(workload.requests.begin(), workload.requests.end(),
                            [](const SimRequest &a, const SimRequest &b) { return a.arrival < b.arrival; }));
}

FleetSimulation::~FleetSimulation() = default;

PolicyEnvironment FleetSimulation::policyEnvironment()
{
    PolicyEnvironment environment;
    environment.oracle = m_oracle.get();
    environment.servers = serverCount();
    environment.blockSize = m_serverConfig.blockSize;
    environment.kvBlocksPerServer = m_serverConfig.numGpuBlocks;
    return environment;
}

std::optional<std::vector<FleetPolicy>> FleetSimulation::makePolicies(std::string_view name)
{
    std::vector<FleetPolicy> policies;
    for (int r = 0; r < replicaCount(); ++r) {
        auto policy = makeFleetPolicy(name, policyEnvironment());
        if (!policy) {
            return std::nullopt;
        }
        policies.push_back(std::move(*policy));
    }
    return policies;
}

RunRecord FleetSimulation::run(std::span<FleetPolicy> replicas)
{
    if (static_cast<int>(replicas.size()) != replicaCount()) {
        qFatal("FleetSimulation::run: %d policies for %d replicas", static_cast<int>(replicas.size()), replicaCount());
    }
    Run run(*this, replicas);
    return run.execute();
}

RunRecord FleetSimulation::run(FleetPolicy &policy)
{
    return run(std::span<FleetPolicy>(&policy, 1));
}

std::optional<RunResult> simulateFleet(const FleetConfig &config, const Workload &workload, std::string_view policyName)
{
    FleetSimulation simulation(config, workload);
    auto policies = simulation.makePolicies(policyName);
    if (!policies) {
        return std::nullopt;
    }
    return summarize(simulation.run(*policies));
}

} // namespace Gateway::Sim::Fleet
