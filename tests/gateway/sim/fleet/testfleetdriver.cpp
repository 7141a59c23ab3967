#include "sim/fleet/fleetdriver.h"
#include "sim/fleet/routerview.h"
#include "sim/fleet/workloads.h"

#include "routing/prefixindex.h"
#include "routing/promptblocks.h"
#include "routing/routepolicy.h"

#include <QTest>

#include <span>

using namespace Gateway::Sim::Fleet;

namespace {

// A small fleet: 4 servers, W1 at a moderate rate for 20 simulated seconds (~120
// requests of 2,176 prompt tokens): a fraction of a second even in Debug.
FleetConfig smallFleet()
{
    FleetConfig config;
    config.servers = 4;
    return config;
}

Workload smallGsp(std::uint64_t seed = 3, double rate = 6.0, double seconds = 20.0)
{
    WorkloadSpec spec;
    spec.kind = WorkloadKind::SharedPrefix;
    spec.seed = seed;
    spec.rate = rate;
    spec.horizon = fromSeconds(seconds);
    return generateWorkload(spec);
}

RunRecord runPolicy(const FleetConfig &config, const Workload &workload, std::string_view name)
{
    FleetSimulation simulation(config, workload);
    auto policies = simulation.makePolicies(name); // one per replica
    if (!policies) {
        qFatal("unknown policy");
    }
    return simulation.run(*policies);
}

// What one replica's router saw at each of its decisions: the requests it believed in
// flight fleet-wide and how many backends it had /metrics for. It routes to the backend
// with the fewest of those requests (the lowest index on ties): least request without
// randomness, so where each request lands follows from the counters alone.
struct ProbeLog {
    std::vector<int> inFlight;
    std::vector<int> freshBackends;
};

class ProbePolicy final : public Gateway::Routing::RoutePolicy {
public:
    explicit ProbePolicy(ProbeLog &log)
        : m_log(log)
    {
    }

    std::string_view name() const override { return "probe"; }

    void rank(const Gateway::Routing::RankInput &input, Gateway::Routing::Rng &, Gateway::Routing::Ranking &out) const override
    {
        out.reset(input.targets.size());
        int inFlight = 0;
        int fresh = 0;
        int best = input.candidates.front();
        for (const int candidate : input.candidates) {
            const auto &state = Gateway::Routing::stateOf(input.targets[static_cast<std::size_t>(candidate)], input.snapshot);
            inFlight += state.inFlightRequests;
            fresh += state.engine.fresh ? 1 : 0;
            if (state.inFlightRequests < Gateway::Routing::stateOf(input.targets[static_cast<std::size_t>(best)], input.snapshot).inFlightRequests) {
                best = candidate;
            }
        }
        m_log.inFlight.push_back(inFlight);
        m_log.freshBackends.push_back(fresh);
        out.order.push_back(best);
    }

private:
    ProbeLog &m_log;
};

// `count` requests arriving together at t = 0, each with its own 64-token prompt (no
// shared prefix) and 200-token answer: all are dispatched before any server step.
Workload simultaneousArrivals(int count)
{
    Workload workload;
    workload.name = QStringLiteral("simultaneous");
    for (int i = 0; i < count; ++i) {
        SimRequest request;
        request.id = static_cast<std::uint64_t>(i);
        request.prompt = {TextSpan {mixSeed(77, static_cast<std::uint64_t>(i)), 64, false}};
        request.completion = TextSpan {mixSeed(78, static_cast<std::uint64_t>(i)), 200, false};
        request.promptTokens = 64;
        request.outputTokens = 200;
        workload.requests.push_back(std::move(request));
    }
    return workload;
}

bool sameOutcomes(const RunRecord &a, const RunRecord &b)
{
    if (a.requests.size() != b.requests.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.requests.size(); ++i) {
        const RequestOutcome &x = a.requests[i];
        const RequestOutcome &y = b.requests[i];
        if (x.backend != y.backend || x.firstToken != y.firstToken || x.finished != y.finished || x.fate != y.fate
            || x.outputTokens != y.outputTokens || x.replica != y.replica) {
            return false;
        }
    }
    return true;
}

// One probe policy per replica, each writing to its own log.
std::vector<FleetPolicy> probePolicies(std::span<ProbeLog> logs)
{
    std::vector<FleetPolicy> policies(logs.size());
    for (std::size_t r = 0; r < logs.size(); ++r) {
        policies[r].name = QStringLiteral("probe");
        policies[r].policy = std::make_unique<ProbePolicy>(logs[r]);
    }
    return policies;
}

} // namespace

class TestFleetDriver final : public QObject {
    Q_OBJECT

private slots:
    void everyRequestIsResolved();
    void deterministicPerSeed();
    void routerSeedMattersForRandomPolicies();
    void roundRobinRotates();
    void prefixAffinityRaisesTheHitRateOnW1();
    void oracleReadsTheServersCaches();
    void clientsGiveUpAfterTheTimeout();
    void registryKnowsEveryName();
    void routerViewCountsAndScrapes();
    void prefillPoolPrefillsThenDecodes();
    void replicasCountOnlyTheirOwnRequests();
    void replicasScrapeOutOfStep();
    void twoReplicasSplitTheTraffic();
    void oneReplicaIsTheSingleRouter();
    void aRestartEmptiesTheServerAndItsIndexEntries();
};

void TestFleetDriver::everyRequestIsResolved()
{
    const Workload workload = smallGsp();
    const RunRecord record = runPolicy(smallFleet(), workload, "least_request");
    QCOMPARE(record.requests.size(), workload.requests.size());
    for (const RequestOutcome &r : record.requests) {
        QCOMPARE(r.fate, RequestFate::Completed);
        QVERIFY(r.firstToken > r.arrival);
        QVERIFY(r.finished > r.firstToken);
        QCOMPARE(r.outputTokens, 256);
    }
    const RunResult result = summarize(record);
    QCOMPARE(result.completed, result.requests);
    QVERIFY(result.ttftP50 > 0.0 && result.ttftP50 <= result.ttftP90 && result.ttftP90 <= result.ttftP99);
    QVERIFY(result.itlP50 > 5.0); // at least beta0 (5.75 ms) per step
    QVERIFY(result.outputTokensPerSecond > 0.0);
    QCOMPARE(result.backendPrefillTokens.size(), std::size_t {4});
    QVERIFY(result.prefillSkew >= 1.0);
}

void TestFleetDriver::deterministicPerSeed()
{
    const Workload workload = smallGsp();
    for (const char *name : {"p2c", "prefix_aware", "epp_default"}) {
        const RunRecord a = runPolicy(smallFleet(), workload, name);
        const RunRecord b = runPolicy(smallFleet(), workload, name);
        QVERIFY2(sameOutcomes(a, b), name);
        QCOMPARE(summarize(a).hitRate, summarize(b).hitRate);
    }
}

void TestFleetDriver::routerSeedMattersForRandomPolicies()
{
    const Workload workload = smallGsp();
    FleetConfig other = smallFleet();
    other.routerSeed = 99;
    QVERIFY(!sameOutcomes(runPolicy(smallFleet(), workload, "random"), runPolicy(other, workload, "random")));
}

void TestFleetDriver::roundRobinRotates()
{
    const Workload workload = smallGsp();
    const RunRecord record = runPolicy(smallFleet(), workload, "round_robin");
    for (std::size_t i = 0; i < record.requests.size(); ++i) {
        QCOMPARE(record.requests[i].backend, static_cast<int>(i % 4));
    }
}

void TestFleetDriver::prefixAffinityRaisesTheHitRateOnW1()
{
    // The direction of SGLang's v0.4 result: routing by prefix keeps each group's system
    // prompt on one server, round robin spreads it over all of them.
    const Workload workload = smallGsp(3, 8.0, 20.0);
    const RunResult roundRobin = summarize(runPolicy(smallFleet(), workload, "round_robin"));
    const RunResult prefixAware = summarize(runPolicy(smallFleet(), workload, "prefix_aware"));
    const RunResult oracle = summarize(runPolicy(smallFleet(), workload, "prefix_aware_oracle"));
    QVERIFY2(prefixAware.hitRate > roundRobin.hitRate + 0.15,
             qPrintable(QStringLiteral("%1 vs %2").arg(prefixAware.hitRate).arg(roundRobin.hitRate)));
    QVERIFY(oracle.hitRate > roundRobin.hitRate + 0.15);
    QVERIFY(prefixAware.prefillTokens < roundRobin.prefillTokens);
}

void TestFleetDriver::oracleReadsTheServersCaches()
{
    const Workload workload = smallGsp(3, 4.0, 5.0);
    FleetSimulation simulation(smallFleet(), workload);
    PolicyEnvironment environment = simulation.policyEnvironment();
    auto policy = makeFleetPolicy("round_robin", environment);
    simulation.run(*policy);
    // Request 0 went to server 0; its prompt's blocks are cached there.
    PromptRenderer renderer;
    QByteArray text;
    for (const TextSpan &span : workload.requests[0].prompt) {
        renderer.append(text, span);
    }
    const auto blocks = Gateway::Routing::PromptBlockHasher::hash(FleetConfig {}.model, text);
    const std::vector<int> backends {0, 1, 2, 3};
    std::vector<int> matched(4, -1);
    environment.oracle->match(blocks, backends, matched);
    QCOMPARE(matched[0], static_cast<int>(blocks.size()));
    for (int i = 0; i < 4; ++i) {
        // Idle servers: nothing in flight, so announced = stored.
        QCOMPARE(matched[static_cast<std::size_t>(i)], simulation.server(i).cache().matchPrefix(blocks));
    }
}

void TestFleetDriver::clientsGiveUpAfterTheTimeout()
{
    // Two servers, far more W1 traffic than they can serve, clients that wait 3 s.
    FleetConfig config = smallFleet();
    config.servers = 2;
    config.requestTimeout = fromSeconds(3.0);
    const Workload workload = smallGsp(5, 40.0, 5.0);
    const RunRecord record = runPolicy(config, workload, "round_robin");
    const RunResult result = summarize(record);
    QVERIFY(result.timeouts > 0);
    QCOMPARE(result.completed + result.timeouts + result.rejected, result.requests);
    QCOMPARE(result.e2eP99, 3.0); // timed-out requests count with the timeout
    for (const RequestOutcome &r : record.requests) {
        if (r.fate == RequestFate::Completed) {
            QVERIFY(r.finished - r.arrival <= config.requestTimeout);
        }
    }
    for (const ServerStatus &s : record.servers) {
        QCOMPARE(s.running, 0);
        QCOMPARE(s.waiting, 0);
    }
}

void TestFleetDriver::registryKnowsEveryName()
{
    const Workload workload = smallGsp(1, 1.0, 1.0);
    FleetSimulation simulation(smallFleet(), workload);
    const QStringList names = fleetPolicyNames();
    for (const char *expected : {"round_robin", "random", "least_request", "p2c", "prefix_aware", "sglang_cache_aware",
                                 "sglang_cache_aware_v1", "epp_default", "dynamo_cost", "prefix_only",
                                 "prefix_aware_oracle", "llmd_precise_oracle"}) {
        QVERIFY2(names.contains(QLatin1StringView(expected)), expected);
    }
    for (const QString &name : names) {
        auto policy = makeFleetPolicy(name.toStdString(), simulation.policyEnvironment());
        QVERIFY2(policy.has_value(), qPrintable(name));
        QCOMPARE(policy->oracle, name.endsWith(QLatin1StringView("_oracle")));
    }
    QVERIFY(!makeFleetPolicy("no_such_policy", simulation.policyEnvironment()));
}

void TestFleetDriver::routerViewCountsAndScrapes()
{
    RouterView view(4, 1000 * MICROS_PER_MILLI);
    // Staggered: backend i at i x 250 ms.
    QCOMPARE(view.nextScrape(), std::optional<SimTime> {0});
    QCOMPARE(view.takeDueScrapes(0), std::vector<int> {0});
    QCOMPARE(view.nextScrape(), std::optional<SimTime> {250 * MICROS_PER_MILLI});
    QCOMPARE(view.takeDueScrapes(600 * MICROS_PER_MILLI), (std::vector<int> {1, 2}));

    ServerStatus status;
    status.running = 3;
    status.waiting = 2;
    status.kvCacheUsage = 0.5;
    status.processPrefixCacheQueries = 100; // what /metrics shows
    status.processPrefixCacheHits = 40;
    status.blockSize = 16;
    status.numGpuBlocks = 1000;
    view.scrape(1, status, 250 * MICROS_PER_MILLI);
    RequestLoad load {1100, 1000, 100};
    const Gateway::Routing::PrefillTicket ticket = view.dispatched(1, load, 1000 * MICROS_PER_MILLI);
    QVERIFY(ticket.alone);
    QVERIFY(!view.dispatched(1, {}, 1100 * MICROS_PER_MILLI).alone); // behind the first
    view.finished(1, {}, true);
    const auto &snapshot = view.snapshot(1250 * MICROS_PER_MILLI);
    const auto &b = snapshot.backends[1];
    QVERIFY(b.engine.fresh);
    QCOMPARE(b.engine.ageMs, std::int64_t {1000});
    QCOMPARE(b.engine.waitingRequests, 2.0);
    QCOMPARE(b.engine.prefixCacheHitRate, 0.4);
    QCOMPARE(b.engine.cacheBlocks, std::int64_t {1000});
    QCOMPARE(b.inFlightRequests, 1);
    QCOMPARE(b.inFlightTokens, std::int64_t {1100});
    QCOMPARE(b.prefillsInFlight, 1);
    QCOMPARE(b.prefillElapsedUs, 150 * MICROS_PER_MILLI); // since the newest prompt was sent
    QVERIFY(!snapshot.backends[0].engine.fresh);
    QCOMPARE(snapshot.backends[0].prefillElapsedUs, SimTime {-1}); // nothing in prefill
    // Its first token 20 ms after it was sent, alone there: 20 µs per uncached token.
    view.prefillDone(1, load, ticket, 1020 * MICROS_PER_MILLI);
    QCOMPARE(view.snapshot(0).backends[1].inFlightPrefillTokens, std::int64_t {0});
    QCOMPARE(view.snapshot(0).backends[1].prefillsInFlight, 0);
    QCOMPARE(view.snapshot(0).backends[1].prefillUsPerToken, 20.0);
    view.finished(1, load, false);
    QCOMPARE(view.snapshot(0).backends[1].inFlightRequests, 0);
    QCOMPARE(view.snapshot(0).backends[1].inFlightDecodeTokens, std::int64_t {0});
    QCOMPARE(view.snapshot(0).backends[1].inFlightTokens, std::int64_t {0});
    QCOMPARE(view.restartsOf(1), std::int64_t {0});

    // The engine restarted: its counters are below the last scrape's. Seen once, and the
    // interval's hit rate is unknown; the next scrape measures from the new values.
    status.processPrefixCacheQueries = 10;
    status.processPrefixCacheHits = 5;
    view.scrape(1, status, 1500 * MICROS_PER_MILLI);
    QCOMPARE(view.restartsOf(1), std::int64_t {1});
    QCOMPARE(view.snapshot(1500 * MICROS_PER_MILLI).backends[1].engine.restarts, std::int64_t {1});
    QCOMPARE(view.snapshot(1500 * MICROS_PER_MILLI).backends[1].engine.prefixCacheHitRate, -1.0);
    status.processPrefixCacheQueries = 20;
    status.processPrefixCacheHits = 10;
    view.scrape(1, status, 1750 * MICROS_PER_MILLI);
    QCOMPARE(view.restartsOf(1), std::int64_t {1});
    QCOMPARE(view.snapshot(1750 * MICROS_PER_MILLI).backends[1].engine.prefixCacheHitRate, 0.5);
    QCOMPARE(view.restartsOf(0), std::int64_t {0});

    // A second replica's view, half an interval out of phase: backend i at 500 + i x 250 ms.
    RouterView late(4, 1000 * MICROS_PER_MILLI, 500 * MICROS_PER_MILLI);
    QCOMPARE(late.nextScrape(), std::optional<SimTime> {500 * MICROS_PER_MILLI});
    QVERIFY(late.takeDueScrapes(499 * MICROS_PER_MILLI).empty());
    QCOMPARE(late.takeDueScrapes(1000 * MICROS_PER_MILLI), (std::vector<int> {0, 1, 2}));
    QCOMPARE(late.nextScrape(), std::optional<SimTime> {1250 * MICROS_PER_MILLI});
}

void TestFleetDriver::prefillPoolPrefillsThenDecodes()
{
    // W6chat on 1 prefill + 3 decode servers: a session's first turn (cold 5,000-token
    // context) is disaggregated, its later turns (50 new tokens on a server that holds
    // the rest) only when the threshold is below 50.
    WorkloadSpec spec;
    spec.kind = WorkloadKind::MixedFleetChat;
    spec.seed = 5;
    spec.rate = 2.0;
    spec.horizon = fromSeconds(20);
    const Workload workload = generateWorkload(spec);
    FleetConfig config = smallFleet();
    config.stepScale = {1.0, 2.0};
    config.prefillServers = 1;
    config.pd.uncachedTokensThreshold = 256;
    const RunRecord record = runPolicy(config, workload, "prefix_aware");
    int disaggregated = 0;
    for (const RequestOutcome &r : record.requests) {
        QCOMPARE(r.fate, RequestFate::Completed);
        QVERIFY(r.backend >= 1); // the prefill server never answers a client
        QVERIFY(r.firstToken > r.arrival);
        disaggregated += r.disaggregated ? 1 : 0;
    }
    QVERIFY(disaggregated > 0);
    QVERIFY(disaggregated < static_cast<int>(record.requests.size()));
    // The prefill server computed prompts and handed them over; the decode servers
    // imported them instead of prefilling.
    QVERIFY(record.servers[0].prefillTokensComputed > 0);
    QCOMPARE(record.servers[0].decodeTokens, std::int64_t {0});
    std::int64_t imported = 0;
    for (std::size_t i = 1; i < record.servers.size(); ++i) {
        imported += record.servers[i].importedTokens;
    }
    QVERIFY(imported > 0);
    QCOMPARE(summarize(record).disaggregatedShare, static_cast<double>(disaggregated) / static_cast<double>(record.requests.size()));

    // Threshold 16: the chat turns (50 new tokens) are disaggregated too.
    config.pd.uncachedTokensThreshold = 16;
    const RunRecord eager = runPolicy(config, workload, "prefix_aware");
    QVERIFY(summarize(eager).disaggregatedShare > summarize(record).disaggregatedShare);
    // Disabled: the prefill server idles.
    config.pd.enabled = false;
    const RunRecord never = runPolicy(config, workload, "prefix_aware");
    QCOMPARE(summarize(never).disaggregatedShare, 0.0);
    QCOMPARE(never.servers[0].prefillTokensComputed, std::int64_t {0});
    // Deterministic, like every run.
    config.pd.enabled = true;
    QVERIFY(sameOutcomes(eager, runPolicy(config, workload, "prefix_aware")));
}

void TestFleetDriver::replicasCountOnlyTheirOwnRequests()
{
    // 2 replicas, 4 servers, 24 requests arriving at once: every request is still in
    // flight when the next is routed, so each decision shows exactly which requests the
    // deciding replica counts.
    const Workload workload = simultaneousArrivals(24);
    FleetConfig config = smallFleet();
    config.replicas = 2;
    FleetSimulation simulation(config, workload);
    ProbeLog logs[2];
    std::vector<FleetPolicy> policies = probePolicies(logs);
    const RunRecord record = simulation.run(policies);

    int routed[2] = {0, 0};
    std::vector<int> perServer(4, 0);
    for (const RequestOutcome &r : record.requests) {
        QCOMPARE(r.fate, RequestFate::Completed);
        QVERIFY(r.replica == 0 || r.replica == 1);
        // A replica sees only what it sent itself, so it spreads its own requests over
        // the servers in turn whatever the other one did.
        QCOMPARE(r.backend, routed[r.replica] % 4);
        ++routed[r.replica];
        ++perServer[static_cast<std::size_t>(r.backend)];
    }
    QVERIFY2(routed[0] > 0 && routed[1] > 0, "the load balancer's draw sends requests to both replicas");
    for (int r = 0; r < 2; ++r) {
        QCOMPARE(static_cast<int>(logs[r].inFlight.size()), routed[r]);
        for (int k = 0; k < routed[r]; ++k) {
            QCOMPARE(logs[r].inFlight[static_cast<std::size_t>(k)], k); // its own earlier requests, not the other's
        }
    }
    // The servers are shared: each got (and computed the prompts of) what both replicas'
    // own turns sent it, the sum of the two.
    int served = 0;
    for (int server = 0; server < 4; ++server) {
        int expected = 0;
        for (const int own : routed) {
            expected += own / 4 + (server < own % 4 ? 1 : 0);
        }
        const int requests = perServer[static_cast<std::size_t>(server)];
        QCOMPARE(requests, expected);
        QCOMPARE(record.servers[static_cast<std::size_t>(server)].prefillTokensComputed, std::int64_t {64} * requests);
        served += requests;
    }
    QCOMPARE(served, 24);
}

void TestFleetDriver::replicasScrapeOutOfStep()
{
    // 250 ms scrapes, 4 servers, 2 replicas: replica 0 scrapes backend 0 at t = 0, replica
    // 1 starts half an interval later. At t = 0 only replica 0 has any /metrics.
    const Workload workload = simultaneousArrivals(16);
    FleetConfig config = smallFleet();
    config.replicas = 2;
    FleetSimulation simulation(config, workload);
    ProbeLog logs[2];
    std::vector<FleetPolicy> policies = probePolicies(logs);
    simulation.run(policies);
    QVERIFY(!logs[0].freshBackends.empty() && !logs[1].freshBackends.empty());
    for (const int fresh : logs[0].freshBackends) {
        QCOMPARE(fresh, 1);
    }
    for (const int fresh : logs[1].freshBackends) {
        QCOMPARE(fresh, 0);
    }
}

void TestFleetDriver::twoReplicasSplitTheTraffic()
{
    const Workload workload = smallGsp(3, 8.0, 20.0);
    FleetConfig config = smallFleet();
    config.replicas = 2;
    FleetSimulation simulation(config, workload);
    auto policies = simulation.makePolicies("prefix_aware");
    QVERIFY(policies.has_value());
    QCOMPARE(policies->size(), std::size_t {2});
    QVERIFY(policies->at(0).index && policies->at(1).index);
    QVERIFY(policies->at(0).index.get() != policies->at(1).index.get()); // nothing shared
    const RunRecord record = simulation.run(*policies);
    int toSecond = 0;
    for (const RequestOutcome &r : record.requests) {
        QCOMPARE(r.fate, RequestFate::Completed);
        toSecond += r.replica;
    }
    // A uniform draw: about half each (160 requests; far outside [40, 120] is a broken draw).
    const int total = static_cast<int>(record.requests.size());
    QVERIFY2(toSecond > total / 4 && toSecond < 3 * total / 4, qPrintable(QStringLiteral("%1 of %2").arg(toSecond).arg(total)));
    // Deterministic per seed, and the seed decides the split.
    QVERIFY(sameOutcomes(record, runPolicy(config, workload, "prefix_aware")));
    FleetConfig reseeded = config;
    reseeded.routerSeed = 2;
    QVERIFY(!sameOutcomes(record, runPolicy(reseeded, workload, "prefix_aware")));
    // Unpinned sessions and split indexes: prefix locality still beats round robin.
    FleetConfig single = smallFleet();
    QVERIFY(summarize(record).hitRate > summarize(runPolicy(single, workload, "round_robin")).hitRate + 0.1);
}

void TestFleetDriver::oneReplicaIsTheSingleRouter()
{
    // With one replica no draw is made and replica 0 keeps routerSeed: the run is the one
    // a single router with one policy makes (the bench's CSVs before and after replicas
    // were added are identical too).
    const Workload workload = smallGsp();
    for (const char *name : {"random", "round_robin", "prefix_aware", "epp_default"}) {
        FleetSimulation legacy(smallFleet(), workload);
        auto policy = makeFleetPolicy(name, legacy.policyEnvironment());
        const RunRecord single = legacy.run(*policy);
        for (const RequestOutcome &r : single.requests) {
            QCOMPARE(r.replica, 0);
        }
        QVERIFY2(sameOutcomes(single, runPolicy(smallFleet(), workload, name)), name);
        const auto viaSimulate = simulateFleet(smallFleet(), workload, name);
        QVERIFY(viaSimulate.has_value());
        QCOMPARE(viaSimulate->hitRate, summarize(single).hitRate);
        QCOMPARE(viaSimulate->ttftP99, summarize(single).ttftP99);
    }
}

void TestFleetDriver::aRestartEmptiesTheServerAndItsIndexEntries()
{
    const Workload workload = smallGsp();
    const SimTime restartAt = fromSeconds(10.0);
    // What each way leaves in the router's index for server 0, and what server 0's cache
    // answered after the restart.
    struct Outcome {
        std::int64_t indexBlocks = 0;
        RunRecord record;
    };
    const auto runWith = [&](SimTime restart, bool forget) {
        FleetConfig config = smallFleet();
        config.restartAt = restart;
        config.forgetOnRestart = forget;
        FleetSimulation simulation(config, workload);
        auto policies = simulation.makePolicies("prefix_aware");
        Outcome outcome;
        outcome.record = simulation.run(*policies);
        const auto *index = dynamic_cast<const Gateway::Routing::PrefixIndex *>(policies->front().index.get());
        outcome.indexBlocks = index ? index->heldBlocks(0) : -1;
        return outcome;
    };
    const Outcome none = runWith(-1, true);
    const Outcome kept = runWith(restartAt, false);
    const Outcome forgot = runWith(restartAt, true);
    for (const Outcome *outcome : {&none, &kept, &forgot}) {
        for (const RequestOutcome &r : outcome->record.requests) {
            QCOMPARE(r.fate, RequestFate::Completed);
        }
    }
    // The restart cost server 0 its cache: it recomputed what it held (fewer hits than
    // without the restart, whichever way the router took it).
    QVERIFY(kept.record.servers[0].prefixCacheHits < none.record.servers[0].prefixCacheHits);
    QVERIFY(kept.record.servers[0].processPrefixCacheQueries < kept.record.servers[0].prefixCacheQueries);
    // Kept, the index still lists what server 0 held before; forgotten, only what the
    // router sent it since.
    QVERIFY(kept.indexBlocks > 0);
    QVERIFY(forgot.indexBlocks < kept.indexBlocks);
    // Until the restart both runs are the same run.
    for (std::size_t i = 0; i < workload.requests.size(); ++i) {
        if (kept.record.requests[i].finished <= restartAt) {
            QCOMPARE(forgot.record.requests[i].finished, kept.record.requests[i].finished);
        }
    }
}

QTEST_APPLESS_MAIN(TestFleetDriver)
#include "testfleetdriver.moc"
