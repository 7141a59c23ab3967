#include "sim/fleet/fleetdriver.h"
#include "sim/fleet/routerview.h"
#include "sim/fleet/workloads.h"

#include "routing/promptblocks.h"

#include <QTest>

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
    auto policy = makeFleetPolicy(name, simulation.policyEnvironment());
    if (!policy) {
        qFatal("unknown policy");
    }
    return simulation.run(*policy);
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
            || x.outputTokens != y.outputTokens) {
            return false;
        }
    }
    return true;
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
    status.prefixCacheQueries = 100;
    status.prefixCacheHits = 40;
    status.blockSize = 16;
    status.numGpuBlocks = 1000;
    view.scrape(1, status, 250 * MICROS_PER_MILLI);
    RequestLoad load {300, 200, 100};
    view.dispatched(1, load);
    const auto &snapshot = view.snapshot(1250 * MICROS_PER_MILLI);
    const auto &b = snapshot.backends[1];
    QVERIFY(b.engine.fresh);
    QCOMPARE(b.engine.ageMs, std::int64_t {1000});
    QCOMPARE(b.engine.waitingRequests, 2.0);
    QCOMPARE(b.engine.prefixCacheHitRate, 0.4);
    QCOMPARE(b.engine.cacheBlocks, std::int64_t {1000});
    QCOMPARE(b.inFlightRequests, 1);
    QCOMPARE(b.inFlightTokens, std::int64_t {300});
    QVERIFY(!snapshot.backends[0].engine.fresh);
    view.prefillDone(1, load);
    QCOMPARE(view.snapshot(0).backends[1].inFlightPrefillTokens, std::int64_t {0});
    view.finished(1, load, false);
    QCOMPARE(view.snapshot(0).backends[1].inFlightRequests, 0);
    QCOMPARE(view.snapshot(0).backends[1].inFlightDecodeTokens, std::int64_t {0});
    QCOMPARE(view.snapshot(0).backends[1].inFlightTokens, std::int64_t {0});
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

QTEST_APPLESS_MAIN(TestFleetDriver)
#include "testfleetdriver.moc"
