#include "gpu/enginemetrics.h"

#include <QFile>
#include <QTest>

#include <cmath>
#include <optional>

using Gateway::Gpu::EngineKind;
using Gateway::Gpu::engineKindName;
using Gateway::Gpu::EngineSample;
using Gateway::Gpu::readEngineMetrics;

namespace {

QByteArray fixture(const char *name)
{
    QFile file {QStringLiteral(GPU_TEST_DATA_DIR "/") + QLatin1String(name)};
    if (!file.open(QIODevice::ReadOnly)) {
        qFatal("cannot read fixture %s", name);
    }
    return file.readAll();
}

bool near(double actual, double expected)
{
    return std::abs(actual - expected) <= 1e-9 * std::max(1.0, std::abs(expected));
}

} // namespace

// An optional<double> that must hold `expected` (to rounding).
#define COMPARE_VALUE(actual, expected)                                                                                \
    do {                                                                                                               \
        const std::optional<double> value_ = (actual);                                                                 \
        QVERIFY2(value_.has_value(), #actual " is not reported");                                                      \
        QVERIFY2(near(*value_, (expected)),                                                                            \
                 qPrintable(QStringLiteral("%1 = %2, expected %3").arg(QLatin1String(#actual)).arg(*value_, 0, 'g', 17).arg((expected), 0, 'g', 17))); \
    } while (false)

class TestEngineMetrics final : public QObject {
    Q_OBJECT

private slots:
    void vllmDataParallelSumsAndAverages();
    void vllmDeprecatedDuplicatesAreNotCountedTwice();
    void vllmOldNamesOnly();
    void vllmV0GaugeHitRate();
    void newVllmNameWinsOverOldWhateverTheOrder();
    void sglang();
    void sglangCacheConfigInfo();
    void sglangUsageFromTokensWithoutTokenUsage();
    void tgi();
    void llamaCpp();
    void llamaCppOlderBuildWithKvUsage();
    void countersWithoutTotalSuffix();
    void gaugeWithTotalSuffixIsNotACounter();
    void nonFiniteAndNotComputedValuesAreIgnored();
    void negativeAndOverflowingCountsAreIgnored();
    void geometryWithUnknownBlocks();
    void absurdCacheSizesAreUnknownNotNegative();
    void unknownExposition();
    void malformedLinesAreCountedNotFatal();
    void engineKindNames();
};

void TestEngineMetrics::vllmDataParallelSumsAndAverages()
{
    // vLLM 0.11, two data-parallel engines (engine="0" and "1"), multiprocess exporter.
    const EngineSample sample = readEngineMetrics(fixture("vllm-0.11-dp2.txt"));
    QCOMPARE(sample.engine, EngineKind::Vllm);
    QCOMPARE(sample.malformedLines, 0);
    COMPARE_VALUE(sample.runningRequests, 12.0);
    COMPARE_VALUE(sample.waitingRequests, 2.0);
    COMPARE_VALUE(sample.kvCacheUsage, 0.30); // mean of 0.42 and 0.18
    COMPARE_VALUE(sample.prefixCacheQueries, 2.5e6);
    COMPARE_VALUE(sample.prefixCacheHits, 1.5e6);
    QVERIFY(!sample.prefixCacheHitRate.has_value());
    COMPARE_VALUE(sample.promptTokens, 3.7e6);
    COMPARE_VALUE(sample.generationTokens, 600000.0);
    QCOMPARE(sample.cacheBlockSize, std::int64_t {16});
    QCOMPARE(sample.cacheBlocks, std::int64_t {2 * 27616});
}

void TestEngineMetrics::vllmDeprecatedDuplicatesAreNotCountedTwice()
{
    // vLLM 0.10 still shows the deprecated names next to the new ones, with equal values.
    const EngineSample sample = readEngineMetrics(fixture("vllm-0.10-deprecated.txt"));
    QCOMPARE(sample.engine, EngineKind::Vllm);
    COMPARE_VALUE(sample.kvCacheUsage, 0.2617);
    COMPARE_VALUE(sample.prefixCacheQueries, 311820.0);
    COMPARE_VALUE(sample.prefixCacheHits, 187104.0);
    COMPARE_VALUE(sample.runningRequests, 9.0);
    COMPARE_VALUE(sample.waitingRequests, 0.0);
    QCOMPARE(sample.cacheBlocks, std::int64_t {29184});
}

void TestEngineMetrics::vllmOldNamesOnly()
{
    // vLLM 0.9.1 (V1): only the gpu_-prefixed cache names; process and python series first,
    // and prometheus_client's *_created gauges next to every counter.
    const EngineSample sample = readEngineMetrics(fixture("vllm-0.9-v1.txt"));
    QCOMPARE(sample.engine, EngineKind::Vllm);
    QCOMPARE(sample.malformedLines, 0);
    COMPARE_VALUE(sample.runningRequests, 3.0);
    COMPARE_VALUE(sample.waitingRequests, 11.0);
    COMPARE_VALUE(sample.kvCacheUsage, 0.9731);
    COMPARE_VALUE(sample.prefixCacheQueries, 48211.0);
    COMPARE_VALUE(sample.prefixCacheHits, 20480.0);
    COMPARE_VALUE(sample.promptTokens, 52931.0);
    COMPARE_VALUE(sample.generationTokens, 18044.0);
    QCOMPARE(sample.cacheBlockSize, std::int64_t {16});
    QCOMPARE(sample.cacheBlocks, std::int64_t {7281});
}

void TestEngineMetrics::vllmV0GaugeHitRate()
{
    const EngineSample sample = readEngineMetrics(fixture("vllm-0.6-v0.txt"));
    QCOMPARE(sample.engine, EngineKind::Vllm);
    COMPARE_VALUE(sample.runningRequests, 24.0);
    COMPARE_VALUE(sample.waitingRequests, 1.0);
    COMPARE_VALUE(sample.kvCacheUsage, 0.6250799744081893);
    QVERIFY(!sample.prefixCacheHits.has_value());
    QVERIFY(!sample.prefixCacheQueries.has_value());
    COMPARE_VALUE(sample.prefixCacheHitRate, 0.3712);
    COMPARE_VALUE(sample.promptTokens, 9871234.0);
    QCOMPARE(sample.cacheBlockSize, std::int64_t {16});
    QCOMPARE(sample.cacheBlocks, std::int64_t {12504});
}

void TestEngineMetrics::newVllmNameWinsOverOldWhateverTheOrder()
{
    const QByteArray oldFirst = "vllm:gpu_cache_usage_perc{engine=\"0\"} 0.9\n"
                                "vllm:gpu_prefix_cache_queries_total{engine=\"0\"} 999\n"
                                "vllm:gpu_prefix_cache_hits_total{engine=\"0\"} 1\n"
                                "vllm:kv_cache_usage_perc{engine=\"0\"} 0.25\n"
                                "vllm:prefix_cache_queries_total{engine=\"0\"} 400\n"
                                "vllm:prefix_cache_hits_total{engine=\"0\"} 100\n";
    const QByteArray newFirst = "vllm:kv_cache_usage_perc{engine=\"0\"} 0.25\n"
                                "vllm:prefix_cache_queries_total{engine=\"0\"} 400\n"
                                "vllm:prefix_cache_hits_total{engine=\"0\"} 100\n"
                                "vllm:gpu_cache_usage_perc{engine=\"0\"} 0.9\n"
                                "vllm:gpu_prefix_cache_queries_total{engine=\"0\"} 999\n"
                                "vllm:gpu_prefix_cache_hits_total{engine=\"0\"} 1\n";
    for (const QByteArray &text : {oldFirst, newFirst}) {
        const EngineSample sample = readEngineMetrics(text);
        COMPARE_VALUE(sample.kvCacheUsage, 0.25);
        COMPARE_VALUE(sample.prefixCacheQueries, 400.0);
        COMPARE_VALUE(sample.prefixCacheHits, 100.0);
    }
}

void TestEngineMetrics::sglang()
{
    const EngineSample sample = readEngineMetrics(fixture("sglang.txt"));
    QCOMPARE(sample.engine, EngineKind::Sglang);
    QCOMPARE(sample.malformedLines, 0);
    COMPARE_VALUE(sample.runningRequests, 37.0);
    COMPARE_VALUE(sample.waitingRequests, 4.0);
    COMPARE_VALUE(sample.kvCacheUsage, 0.61);
    COMPARE_VALUE(sample.prefixCacheHits, 1932551.0);   // cached_tokens_total
    COMPARE_VALUE(sample.prefixCacheQueries, 4418003.0); // prompt_tokens_total
    COMPARE_VALUE(sample.prefixCacheHitRate, 0.4377);
    COMPARE_VALUE(sample.promptTokens, 4418003.0);
    COMPARE_VALUE(sample.generationTokens, 2010774.0);
    // No cache_config_info: the pool size in pages of one token.
    QCOMPARE(sample.cacheBlockSize, std::int64_t {1});
    QCOMPARE(sample.cacheBlocks, std::int64_t {161984});
}

void TestEngineMetrics::sglangCacheConfigInfo()
{
    const EngineSample sample = readEngineMetrics(
        "sglang:max_total_num_tokens{model_name=\"m\"} 161984.0\n"
        "sglang:cache_config_info{model_name=\"m\",num_pages=\"2531\",page_size=\"64\"} 1.0\n");
    QCOMPARE(sample.cacheBlockSize, std::int64_t {64});
    QCOMPARE(sample.cacheBlocks, std::int64_t {2531});
}

void TestEngineMetrics::sglangUsageFromTokensWithoutTokenUsage()
{
    const EngineSample sample = readEngineMetrics("sglang:num_used_tokens{model_name=\"m\",dp_rank=\"0\"} 30.0\n"
                                                  "sglang:num_used_tokens{model_name=\"m\",dp_rank=\"1\"} 10.0\n"
                                                  "sglang:max_total_num_tokens{model_name=\"m\",dp_rank=\"0\"} 100.0\n"
                                                  "sglang:max_total_num_tokens{model_name=\"m\",dp_rank=\"1\"} 100.0\n");
    COMPARE_VALUE(sample.kvCacheUsage, 0.2);
    QCOMPARE(sample.cacheBlocks, std::int64_t {200});
}

void TestEngineMetrics::tgi()
{
    // metrics-exporter-prometheus: TYPE lines only, counters without _total, blank lines.
    const EngineSample sample = readEngineMetrics(fixture("tgi.txt"));
    QCOMPARE(sample.engine, EngineKind::Tgi);
    QCOMPARE(sample.malformedLines, 0);
    COMPARE_VALUE(sample.waitingRequests, 3.0);
    COMPARE_VALUE(sample.runningRequests, 12.0);
    QVERIFY(!sample.kvCacheUsage.has_value());
    QVERIFY(!sample.prefixCacheHits.has_value());
    QVERIFY(!sample.prefixCacheHitRate.has_value());
    COMPARE_VALUE(sample.promptTokens, 845172.0);
    COMPARE_VALUE(sample.generationTokens, 301633.0);
    QCOMPARE(sample.cacheBlockSize, std::int64_t {0});
    QCOMPARE(sample.cacheBlocks, std::int64_t {0});
}

void TestEngineMetrics::llamaCpp()
{
    const EngineSample sample = readEngineMetrics(fixture("llamacpp.txt"));
    QCOMPARE(sample.engine, EngineKind::LlamaCpp);
    QCOMPARE(sample.malformedLines, 0);
    COMPARE_VALUE(sample.runningRequests, 2.0);
    COMPARE_VALUE(sample.waitingRequests, 1.0);
    QVERIFY(!sample.kvCacheUsage.has_value());
    COMPARE_VALUE(sample.promptTokens, 33065.0);
    COMPARE_VALUE(sample.generationTokens, 7801.0);
}

void TestEngineMetrics::llamaCppOlderBuildWithKvUsage()
{
    const EngineSample sample = readEngineMetrics(fixture("llamacpp-old.txt"));
    QCOMPARE(sample.engine, EngineKind::LlamaCpp);
    COMPARE_VALUE(sample.kvCacheUsage, 0.0751953);
    COMPARE_VALUE(sample.runningRequests, 1.0);
    COMPARE_VALUE(sample.waitingRequests, 0.0);
}

void TestEngineMetrics::countersWithoutTotalSuffix()
{
    const EngineSample sample = readEngineMetrics("# TYPE vllm:prefix_cache_queries counter\n"
                                                  "vllm:prefix_cache_queries{engine=\"0\"} 40\n"
                                                  "# TYPE vllm:prefix_cache_hits counter\n"
                                                  "vllm:prefix_cache_hits{engine=\"0\"} 10\n"
                                                  "vllm:prompt_tokens{engine=\"0\"} 40\n");
    COMPARE_VALUE(sample.prefixCacheQueries, 40.0);
    COMPARE_VALUE(sample.prefixCacheHits, 10.0);
    COMPARE_VALUE(sample.promptTokens, 40.0);
}

void TestEngineMetrics::gaugeWithTotalSuffixIsNotACounter()
{
    const EngineSample sample = readEngineMetrics("vllm:num_requests_running_total 5\n"
                                                  "vllm:prefix_cache_hits_created 1.7e+09\n"
                                                  "vllm:prefix_cache_hits_total_total 3\n");
    QCOMPARE(sample.engine, EngineKind::Vllm);
    QVERIFY(!sample.runningRequests.has_value());
    QVERIFY(!sample.prefixCacheHits.has_value());
}

void TestEngineMetrics::nonFiniteAndNotComputedValuesAreIgnored()
{
    const EngineSample sample = readEngineMetrics("vllm:kv_cache_usage_perc{engine=\"0\"} NaN\n"
                                                  "vllm:kv_cache_usage_perc{engine=\"1\"} 0.5\n"
                                                  "vllm:num_requests_running{engine=\"0\"} +Inf\n"
                                                  "vllm:num_requests_running{engine=\"1\"} 4\n"
                                                  "vllm:gpu_prefix_cache_hit_rate -1\n");
    COMPARE_VALUE(sample.kvCacheUsage, 0.5); // the NaN series neither counts nor averages
    COMPARE_VALUE(sample.runningRequests, 4.0);
    QVERIFY(!sample.prefixCacheHitRate.has_value());
}

void TestEngineMetrics::negativeAndOverflowingCountsAreIgnored()
{
    // Found by the prometheus fuzzer: a broken server's negative queue reached the router.
    const EngineSample sample = readEngineMetrics("vllm:num_requests_waiting{engine=\"0\"} -3\n"
                                                  "vllm:num_requests_waiting{engine=\"1\"} 2\n"
                                                  "vllm:prompt_tokens_total -10\n"
                                                  "vllm:num_requests_running{engine=\"0\"} 1e308\n"
                                                  "vllm:num_requests_running{engine=\"1\"} 1e308\n");
    COMPARE_VALUE(sample.waitingRequests, 2.0);
    QVERIFY(!sample.promptTokens.has_value());
    QVERIFY(!sample.runningRequests.has_value()); // two finite values whose sum is not
}

void TestEngineMetrics::geometryWithUnknownBlocks()
{
    const EngineSample sample =
        readEngineMetrics("vllm:cache_config_info{block_size=\"32\",num_gpu_blocks=\"None\",engine=\"0\"} 1.0\n");
    QCOMPARE(sample.cacheBlockSize, std::int64_t {32});
    QCOMPARE(sample.cacheBlocks, std::int64_t {0});

    const EngineSample fractional = readEngineMetrics("vllm:cache_config_info{block_size=\"16.5\",num_gpu_blocks=\"-3\"} 1\n");
    QCOMPARE(fractional.cacheBlockSize, std::int64_t {0});
    QCOMPARE(fractional.cacheBlocks, std::int64_t {0});
}

void TestEngineMetrics::absurdCacheSizesAreUnknownNotNegative()
{
    // Found by the prometheus fuzzer: a pool of 7.8e20 tokens overflowed on its way to an
    // integer and came out as a negative block count.
    const EngineSample sglang = readEngineMetrics("sglang:max_total_num_tokens{model_name=\"m\"} 777777777777777161985.0\n");
    QCOMPARE(sglang.engine, EngineKind::Sglang);
    QCOMPARE(sglang.cacheBlockSize, std::int64_t {0});
    QCOMPARE(sglang.cacheBlocks, std::int64_t {0});

    // Many data-parallel series of the largest count still sum to a bounded, positive size.
    QByteArray text;
    for (int engine = 0; engine < 2048; ++engine) {
        text += "vllm:cache_config_info{block_size=\"16\",num_gpu_blocks=\"9007199254740992\",engine=\"" +
                QByteArray::number(engine) + "\"} 1.0\n";
    }
    const EngineSample vllm = readEngineMetrics(text);
    QCOMPARE(vllm.cacheBlockSize, std::int64_t {16});
    QCOMPARE(vllm.cacheBlocks, std::int64_t {9007199254740992});
}

void TestEngineMetrics::unknownExposition()
{
    const EngineSample sample = readEngineMetrics("# HELP node_load1 1m load average.\n"
                                                  "# TYPE node_load1 gauge\n"
                                                  "node_load1 0.21\n"
                                                  "process_open_fds 12\n");
    QCOMPARE(sample.engine, EngineKind::Unknown);
    QVERIFY(!sample.runningRequests.has_value());
    QVERIFY(!sample.waitingRequests.has_value());
    QVERIFY(!sample.kvCacheUsage.has_value());
    QCOMPARE(readEngineMetrics("").engine, EngineKind::Unknown);
}

void TestEngineMetrics::malformedLinesAreCountedNotFatal()
{
    QByteArray text = fixture("sglang.txt");
    text.replace("sglang:num_queue_reqs{model_name=\"meta-llama/Llama-3.1-8B-Instruct\"} 4.0",
                 "sglang:num_queue_reqs{model_name=\"meta-llama/Llama-3.1-8B-Instruct} 4.0");
    text.append("sglang:num_running_reqs{} not-a-number\n");
    const EngineSample sample = readEngineMetrics(text);
    QCOMPARE(sample.malformedLines, 2);
    QVERIFY(!sample.waitingRequests.has_value()); // its only line was broken
    COMPARE_VALUE(sample.runningRequests, 37.0);
    COMPARE_VALUE(sample.kvCacheUsage, 0.61);
}

void TestEngineMetrics::engineKindNames()
{
    QCOMPARE(engineKindName(EngineKind::Vllm), QByteArrayView("vllm"));
    QCOMPARE(engineKindName(EngineKind::Sglang), QByteArrayView("sglang"));
    QCOMPARE(engineKindName(EngineKind::Tgi), QByteArrayView("tgi"));
    QCOMPARE(engineKindName(EngineKind::LlamaCpp), QByteArrayView("llamacpp"));
    QCOMPARE(engineKindName(EngineKind::Unknown), QByteArrayView("unknown"));
}

QTEST_APPLESS_MAIN(TestEngineMetrics)
#include "testenginemetrics.moc"
