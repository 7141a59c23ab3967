#include "sim/fleet/servermodel.h"
#include "sim/fleet/syntheticprompt.h"
#include "sim/fleet/vllmexposition.h"

#include "routing/promptblocks.h"

#include <QTest>

#include <algorithm>

using namespace Gateway::Sim::Fleet;

namespace {

// Round numbers so every step length can be checked by hand.
ServerConfig smallServer()
{
    ServerConfig config;
    config.blockSize = 16;
    config.numGpuBlocks = 64;
    config.maxNumSeqs = 4;
    config.maxNumBatchedTokens = 64;
    config.step = {1000.0, 10.0, 1.0};
    config.alpha0 = 0.0;
    config.alpha1 = 0.0;
    return config;
}

QByteArray tokens(std::uint64_t seed, int count)
{
    QByteArray text;
    PromptRenderer::render(text, seed, count);
    return text;
}

EngineRequest request(std::uint64_t id, QByteArray prompt, int maxTokens)
{
    EngineRequest r;
    r.id = id;
    r.promptText = std::move(prompt);
    r.maxTokens = maxTokens;
    return r;
}

// Advances the server through its events until `until` (inclusive), collecting reports.
std::vector<StepReport> runUntil(ServerModel &server, SimTime until)
{
    std::vector<StepReport> reports;
    while (const auto next = server.nextEventTime()) {
        if (*next > until) {
            break;
        }
        StepReport report;
        server.advance(*next, report);
        reports.push_back(report);
    }
    return reports;
}

bool contains(const std::vector<std::uint64_t> &ids, std::uint64_t id)
{
    return std::find(ids.begin(), ids.end(), id) != ids.end();
}

} // namespace

class TestServerModel final : public QObject {
    Q_OBJECT

private slots:
    void stepTimeFollowsTheLinearModel();
    void admissionWaitsForTheOverhead();
    void longPromptsArePrefilledInChunks();
    void runningBatchIsCapped();
    void prefixIsReusedOnlyAfterItsChunkCompleted();
    void cachedPrefixIsSkippedAndCounted();
    void preemptsByRecomputeWhenKvRunsOut();
    void rejectsWhatCanNeverFit();
    void abortFreesTheRequest();
    void exposesVllmMetricNames();
    void aRestartEmptiesTheCacheAndTheCounters();
    void remotePrefillImportsTheBlocksAfterTheTransfer();
};

void TestServerModel::stepTimeFollowsTheLinearModel()
{
    const StepCoefficients defaults;
    QCOMPARE(defaults.stepTime(0, 0), SimTime {5753});
    QCOMPARE(defaults.stepTime(1000, 100), SimTime {std::llround(5752.7 + 17250.0 + 600.0)});

    ServerModel server(smallServer(), "m");
    server.submit(request(1, tokens(1, 32), 3), 0);
    QCOMPARE(server.nextEventTime(), std::optional<SimTime> {0});
    StepReport report;
    server.advance(0, report);
    // Prefill of 32 tokens: 1000 + 10 x 32.
    QCOMPARE(server.nextEventTime(), std::optional<SimTime> {1320});
    server.advance(1320, report);
    QCOMPARE(report.firstTokens, std::vector<std::uint64_t> {1});
    // One decode token: 1000 + 1.
    QCOMPARE(server.nextEventTime(), std::optional<SimTime> {2321});
    server.advance(2321, report);
    QCOMPARE(report.gaps.size(), std::size_t {1});
    QCOMPARE(report.gaps[0].gap, SimTime {1001});
    server.advance(3322, report);
    QCOMPARE(report.finished.size(), std::size_t {1});
    QCOMPARE(report.finished[0].generatedTokens, 3);
    QVERIFY(!server.nextEventTime());
    const ServerStatus status = server.status();
    QCOMPARE(status.prefillTokensComputed, std::int64_t {32});
    QCOMPARE(status.decodeTokens, std::int64_t {2});
    QCOMPARE(status.steps, std::int64_t {3});
    QCOMPARE(status.busyTime, SimTime {3322});
}

void TestServerModel::admissionWaitsForTheOverhead()
{
    ServerConfig config = smallServer();
    config.alpha0 = 200.0;
    config.alpha1 = 2.0;
    ServerModel server(config, "m");
    server.submit(request(1, tokens(1, 10), 1), 1000);
    QCOMPARE(server.nextEventTime(), std::optional<SimTime> {1000 + 200 + 20});
    QCOMPARE(server.status().waiting, 1);
}

void TestServerModel::longPromptsArePrefilledInChunks()
{
    // 100 tokens with a budget of 64 per step: chunks of 64 then 36.
    ServerModel server(smallServer(), "m");
    server.submit(request(1, tokens(1, 100), 1), 0);
    StepReport report;
    server.advance(0, report);
    QCOMPARE(server.nextEventTime(), std::optional<SimTime> {1000 + 640});
    server.advance(1640, report);
    QVERIFY(report.firstTokens.empty());
    QCOMPARE(server.nextEventTime(), std::optional<SimTime> {1640 + 1000 + 360});
    server.advance(3000, report);
    QCOMPARE(report.firstTokens, std::vector<std::uint64_t> {1});
    QCOMPARE(report.finished.size(), std::size_t {1});
}

void TestServerModel::runningBatchIsCapped()
{
    ServerConfig config = smallServer();
    config.maxNumBatchedTokens = 1000;
    ServerModel server(config, "m");
    for (std::uint64_t id = 1; id <= 6; ++id) {
        server.submit(request(id, tokens(id, 16), 5), 0);
    }
    StepReport report;
    server.advance(0, report);
    QCOMPARE(server.status().running, 4); // max_num_seqs
    QCOMPARE(server.status().waiting, 2);
    // 4 prompts of 16 tokens in the first step.
    QCOMPARE(server.nextEventTime(), std::optional<SimTime> {1000 + 10 * 64});
    const auto reports = runUntil(server, 1'000'000);
    int finished = 0;
    for (const StepReport &r : reports) {
        finished += static_cast<int>(r.finished.size());
    }
    QCOMPARE(finished, 6);
}

void TestServerModel::prefixIsReusedOnlyAfterItsChunkCompleted()
{
    const QByteArray shared = tokens(42, 128);
    {
        // Admitted in the same step: neither can reuse the other's prefix.
        ServerConfig config = smallServer();
        config.maxNumBatchedTokens = 1000;
        ServerModel server(config, "m");
        server.submit(request(1, shared + tokens(1, 8), 1), 0);
        server.submit(request(2, shared + tokens(2, 8), 1), 0);
        runUntil(server, 1'000'000);
        QCOMPARE(server.status().prefixCacheHits, std::int64_t {0});
        QCOMPARE(server.status().prefillTokensComputed, std::int64_t {2 * 136});
    }
    // A budget of 100 tokens: request 1 (136 tokens) is prefilled as 100 + 36.
    ServerConfig config = smallServer();
    config.maxNumBatchedTokens = 100;
    ServerModel server(config, "m");
    server.submit(request(1, shared + tokens(1, 8), 1), 0);
    server.submit(request(2, shared + tokens(2, 8), 1), 0);
    StepReport report;
    server.advance(0, report); // request 1's first chunk uses the whole budget
    QCOMPARE(server.status().prefixCacheQueries, std::int64_t {136});
    QCOMPARE(server.nextEventTime(), std::optional<SimTime> {2000});
    server.advance(2000, report);
    // Request 2 is admitted next to request 1's second chunk: it reuses the 6 blocks
    // (96 tokens) the first chunk completed, not the 2 being computed in this step.
    QCOMPARE(server.status().prefixCacheQueries, std::int64_t {272});
    QCOMPARE(server.status().prefixCacheHits, std::int64_t {96});
    // KV events have announced those 2 as well (vLLM emits BlockStored at scheduling).
    const auto chain = Gateway::Routing::PromptBlockHasher::hash("m", shared);
    QCOMPARE(server.cache().matchPrefix(chain), 6);
    QCOMPARE(server.announcedPrefix(chain), 8);
    // Once request 1's prefill is complete, all 8 shared blocks are reusable.
    runUntil(server, 1'000'000);
    server.submit(request(3, shared + tokens(3, 8), 1), 2'000'000);
    runUntil(server, 3'000'000);
    QCOMPARE(server.status().prefixCacheHits, std::int64_t {96 + 128});
}

void TestServerModel::cachedPrefixIsSkippedAndCounted()
{
    // A cached prefix costs no prefill time; at least one token is always computed.
    ServerModel server(smallServer(), "m");
    const QByteArray prompt = tokens(5, 32);
    server.submit(request(1, prompt, 1), 0);
    runUntil(server, 1'000'000);
    const std::int64_t before = server.status().prefillTokensComputed;
    server.submit(request(2, prompt, 1), 2'000'000);
    StepReport report;
    server.advance(2'000'000, report);
    // Identical prompt: the first block is reused, the last block (16 tokens) recomputed.
    QCOMPARE(server.nextEventTime(), std::optional<SimTime> {2'000'000 + 1000 + 160});
    runUntil(server, 3'000'000);
    QCOMPARE(server.status().prefillTokensComputed - before, std::int64_t {16});
    QCOMPARE(server.status().prefixCacheHits, std::int64_t {16});
}

void TestServerModel::preemptsByRecomputeWhenKvRunsOut()
{
    // 8 blocks; each request grows to ceil((32 + 60) / 16) = 6 blocks: both cannot fit.
    ServerConfig config = smallServer();
    config.numGpuBlocks = 8;
    ServerModel server(config, "m");
    server.submit(request(1, tokens(1, 32), 61), 0);
    server.submit(request(2, tokens(2, 32), 61), 0);
    const auto reports = runUntil(server, 100'000'000);
    std::vector<std::uint64_t> finished;
    for (const StepReport &r : reports) {
        for (const FinishedRequest &f : r.finished) {
            finished.push_back(f.id);
            QCOMPARE(f.generatedTokens, 61);
        }
    }
    QCOMPARE(finished.size(), std::size_t {2});
    QVERIFY(server.status().preemptions >= 1);
    QCOMPARE(server.cache().freeBlocks(), 8);
}

void TestServerModel::rejectsWhatCanNeverFit()
{
    ServerConfig config = smallServer();
    config.numGpuBlocks = 4; // 64 tokens
    ServerModel server(config, "m");
    server.submit(request(1, tokens(1, 60), 10), 0);
    StepReport report;
    server.advance(0, report);
    QCOMPARE(report.rejected, std::vector<std::uint64_t> {1});
    QVERIFY(!server.nextEventTime());
}

void TestServerModel::abortFreesTheRequest()
{
    ServerModel server(smallServer(), "m");
    server.submit(request(1, tokens(1, 32), 500), 0);
    server.submit(request(2, tokens(2, 32), 5), 0);
    StepReport report;
    server.advance(0, report);
    QVERIFY(server.abort(1));
    QVERIFY(!server.abort(1));
    const auto reports = runUntil(server, 100'000'000);
    bool firstSeen = false;
    for (const StepReport &r : reports) {
        firstSeen = firstSeen || contains(r.firstTokens, 1);
        for (const FinishedRequest &f : r.finished) {
            QCOMPARE(f.id, std::uint64_t {2});
        }
    }
    QVERIFY(!firstSeen); // aborted during its prefill step: no token
    QCOMPARE(server.status().running, 0);
    QCOMPARE(server.cache().freeBlocks(), 64);
}

void TestServerModel::exposesVllmMetricNames()
{
    ServerModel server(smallServer(), "llama");
    server.submit(request(1, tokens(1, 32), 2), 0);
    StepReport report;
    server.advance(0, report);
    const QByteArray text = renderVllmMetrics(server.status(), "llama");
    QVERIFY(text.contains("vllm:num_requests_running{engine=\"0\",model_name=\"llama\"} 1\n"));
    QVERIFY(text.contains("vllm:num_requests_waiting{engine=\"0\",model_name=\"llama\"} 0\n"));
    QVERIFY(text.contains("# TYPE vllm:kv_cache_usage_perc gauge\n"));
    QVERIFY(text.contains("vllm:prefix_cache_queries_total{engine=\"0\",model_name=\"llama\"} 32\n"));
    QVERIFY(text.contains("vllm:prefix_cache_hits_total{engine=\"0\",model_name=\"llama\"} 0\n"));
    QVERIFY(text.contains("vllm:cache_config_info{block_size=\"16\",engine=\"0\",model_name=\"llama\",num_gpu_blocks=\"64\"} 1\n"));
    // 2 of 64 blocks in use.
    QVERIFY(text.contains("vllm:kv_cache_usage_perc{engine=\"0\",model_name=\"llama\"} 0.03125\n"));
}

void TestServerModel::aRestartEmptiesTheCacheAndTheCounters()
{
    ServerModel server(smallServer(), "m");
    const QByteArray prompt = tokens(5, 32);
    server.submit(request(1, prompt, 1), 0);
    runUntil(server, 1'000'000);
    server.submit(request(2, prompt, 1), 2'000'000);
    runUntil(server, 3'000'000);
    QCOMPARE(server.status().processPrefixCacheHits, std::int64_t {16});
    const std::int64_t computed = server.status().prefillTokensComputed;

    server.restart();
    // /metrics starts again from zero (how a router sees the restart); the run's totals do not.
    QCOMPARE(server.status().processPrefixCacheQueries, std::int64_t {0});
    QCOMPARE(server.status().processPrefixCacheHits, std::int64_t {0});
    QCOMPARE(server.status().prefixCacheHits, std::int64_t {16});
    QVERIFY(renderVllmMetrics(server.status(), "m").contains("vllm:prefix_cache_queries_total{engine=\"0\",model_name=\"m\"} 0\n"));
    // Nothing computed before is found again: the same prompt is computed in full.
    server.submit(request(3, prompt, 1), 4'000'000);
    runUntil(server, 5'000'000);
    QCOMPARE(server.status().prefillTokensComputed - computed, std::int64_t {32});
    QCOMPARE(server.status().processPrefixCacheHits, std::int64_t {0});
    QCOMPARE(server.status().processPrefixCacheQueries, std::int64_t {32});
}

void TestServerModel::remotePrefillImportsTheBlocksAfterTheTransfer()
{
    ServerConfig config = smallServer();
    config.kvTransferBase = 500.0;
    config.kvTransferPerToken = 2.0;
    ServerModel server(config, "m");
    // 48 prompt tokens pulled from a prefill server: ready after 500 + 2 x 48 us, then one
    // step computes only the last prompt token (10 us per prefill token here).
    EngineRequest decode = request(1, tokens(7, 48), 3);
    decode.remotePrefill = true;
    server.submit(decode, 0);
    QCOMPARE(server.nextEventTime(), std::optional<SimTime> {500 + 96});
    StepReport report;
    server.advance(596, report);
    QCOMPARE(server.nextEventTime(), std::optional<SimTime> {596 + 1000 + 10});
    runUntil(server, 1'000'000);
    QCOMPARE(server.status().prefillTokensComputed, std::int64_t {1});
    QCOMPARE(server.status().importedTokens, std::int64_t {47});
    // The imported blocks are this server's cache now: the same prompt, sent locally,
    // hits them (all but its last block, which always recomputes at least one token).
    server.submit(request(2, tokens(7, 48), 1), 2'000'000);
    runUntil(server, 3'000'000);
    QCOMPARE(server.status().prefixCacheHits, std::int64_t {32});
    // A pull of what the server already holds costs only the setup.
    EngineRequest again = request(3, tokens(7, 48), 1);
    again.remotePrefill = true;
    server.submit(again, 4'000'000);
    QCOMPARE(server.nextEventTime(), std::optional<SimTime> {4'000'000 + 500});
}

QTEST_APPLESS_MAIN(TestServerModel)
#include "testservermodel.moc"
