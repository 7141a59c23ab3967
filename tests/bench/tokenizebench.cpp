// Token counting throughput on one core: TokenCounter::count() for an o200k model and a
// cl100k model, and the estimator, over about 512 KB built from the tokenize test corpus
// (tests/gateway/tokenize/data/corpus), repeated. Two corpora:
//   Traffic  the files that look like gateway traffic: English prose and chat, C++ and
//            Python, JSON, logs/YAML/SQL, numbers, European languages, CJK,
//            Cyrillic/Arabic/Hebrew/Greek/Hindi/Thai, emoji; one copy of each file, so
//            non-Latin scripts are about a third of the bytes.
//   All      also the four edge-case fixtures (contractions, marks and long runs, mixed
//            scripts with 160-character punctuation runs, whitespace): a stress case.
// Reports MB/s (10^6 bytes); target >= 20 MB/s for the exact encodings in a Release build
// (docs/BENCHMARKS.md). No cache sits in front of the BPE, so repeating the corpus does
// not flatter the result.

#include "tokenize/tokencounter.h"

#include <benchmark/benchmark.h>

#include <QDir>
#include <QFile>

#include <cstdio>
#include <optional>

using namespace Gateway::Tokenize;

namespace {

constexpr qsizetype kCorpusBytes = 512 * 1024;

// The edge-case fixtures left out of the traffic corpus.
const QStringList kFixtures = {QStringLiteral("contractions.txt"), QStringLiteral("marks_and_runs.txt"),
                               QStringLiteral("mixed.txt"), QStringLiteral("whitespace.txt")};

QByteArray buildCorpus(bool withFixtures)
{
    const QDir dir(QStringLiteral(TOKENIZE_TEST_DATA_DIR "/corpus"));
    QByteArray once;
    for (const QString &name : dir.entryList({QStringLiteral("*.txt")}, QDir::Files, QDir::Name)) {
        if (!withFixtures && kFixtures.contains(name)) {
            continue;
        }
        QFile file(dir.filePath(name));
        if (file.open(QIODevice::ReadOnly)) {
            once += file.readAll() + '\n';
        }
    }
    QByteArray corpus;
    while (!once.isEmpty() && corpus.size() < kCorpusBytes) {
        corpus += once;
    }
    return corpus;
}

const TokenCounter &counter()
{
    static const std::optional<TokenCounter> instance = [] {
        auto loaded = TokenCounter::withBundledRanks();
        if (!loaded) {
            std::fprintf(stderr, "%s\n", qPrintable(loaded.error()));
            std::abort();
        }
        return std::optional<TokenCounter>(std::move(loaded).value());
    }();
    return *instance;
}

enum Corpus { Traffic, All };

const QByteArray &corpus(Corpus which)
{
    static const QByteArray traffic = buildCorpus(false);
    static const QByteArray all = buildCorpus(true);
    return which == Traffic ? traffic : all;
}

// 10^6 bytes per second of CPU time.
benchmark::Counter megabytesPerSecond(const QByteArray &text)
{
    return benchmark::Counter(double(text.size()) / 1e6, benchmark::Counter::kIsIterationInvariantRate);
}

void countFor(benchmark::State &state, QStringView model)
{
    const QByteArray &text = corpus(Corpus(state.range(0)));
    const TokenCounter &c = counter();
    qsizetype tokens = 0;
    for (auto _ : state) {
        tokens = c.count(model, text).tokens;
        benchmark::DoNotOptimize(tokens);
    }
    state.SetBytesProcessed(state.iterations() * text.size());
    state.counters["tokens"] = double(tokens);
    state.counters["MB_per_s"] = megabytesPerSecond(text);
}

void BM_CountO200k(benchmark::State &state)
{
    countFor(state, u"gpt-4o");
}

void BM_CountCl100k(benchmark::State &state)
{
    countFor(state, u"gpt-4");
}

void BM_Estimate(benchmark::State &state)
{
    countFor(state, u"claude-sonnet-4");
}

void BM_EncodeO200k(benchmark::State &state)
{
    const QByteArray &text = corpus(Corpus(state.range(0)));
    const BpeEncoding &enc = *counter().encoding(EncodingId::O200kBase);
    for (auto _ : state) {
        auto ids = enc.encode(text);
        benchmark::DoNotOptimize(ids.data());
    }
    state.SetBytesProcessed(state.iterations() * text.size());
    state.counters["MB_per_s"] = megabytesPerSecond(text);
}

void BM_LoadBundledRanks(benchmark::State &state)
{
    for (auto _ : state) {
        auto loaded = TokenCounter::withBundledRanks();
        benchmark::DoNotOptimize(loaded.hasValue());
    }
}

} // namespace

// Argument: 0 = traffic corpus, 1 = all (with the edge-case fixtures).
BENCHMARK(BM_CountO200k)->Arg(Traffic)->Arg(All)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CountCl100k)->Arg(Traffic)->Arg(All)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_EncodeO200k)->Arg(Traffic)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Estimate)->Arg(Traffic)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_LoadBundledRanks)->Unit(benchmark::kMillisecond)->Iterations(3);

BENCHMARK_MAIN();
