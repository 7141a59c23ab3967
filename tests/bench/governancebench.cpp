// The governance work on a request's hot path: estimate cost, reserve against a virtual
// key and its team (rpm, tpm, concurrency, dollar and token budgets all configured),
// settle with the real usage, price it and count it for /metrics; optionally with the
// journal's two queue pushes (the SQLite writer runs on its own thread). One iteration
// is one request. See docs/BENCHMARKS.md.

#include "spendjournalwriter.h"

#include "governance/locallimitstore.h"
#include "governance/price.h"
#include "governance/spendmetrics.h"

#include <benchmark/benchmark.h>

#include <QDateTime>
#include <QTemporaryDir>

#include <array>
#include <memory>

using namespace Gateway::Governance;

namespace {

// Limits far from binding, so every request does the whole check and commit.
AccountLimits generous()
{
    AccountLimits limits;
    limits.rates = {1'000'000'000, 1'000'000'000'000, 1'000'000};
    limits.budgets.usdPerDay = 1e8;
    limits.budgets.usdPerMonth = 1e9;
    limits.budgets.tokensPerDay = 1'000'000'000'000'000;
    limits.budgets.tokensPerMonth = 1'000'000'000'000'000;
    return limits;
}

struct Shared {
    LocalLimitStore store;
    SpendMetrics metrics;
    std::array<Subject, 8> subjects; // 8 keys in 2 teams
    const QByteArray route = "chat";
    const Price price {2.5, 10, 1.25};
    std::unique_ptr<QTemporaryDir> dir;
    std::unique_ptr<Storage::SpendJournalWriter> journal;

    Shared()
    {
        for (std::size_t i = 0; i < subjects.size(); ++i) {
            subjects[i].key = QStringLiteral("key-%1").arg(i);
            subjects[i].team = QStringLiteral("team-%1").arg(i % 2);
            subjects[i].keyLimits = generous();
            subjects[i].teamLimits = generous();
            store.bind(subjects[i]);
        }
    }

    void openJournal()
    {
        if (journal) {
            return;
        }
        dir = std::make_unique<QTemporaryDir>();
        Storage::SpendJournalWriter::Options options;
        options.databasePath = dir->filePath(QStringLiteral("bench.db"));
        auto started = Storage::SpendJournalWriter::start(options);
        if (started) {
            journal = std::move(started->writer);
        }
    }
};

Shared &shared()
{
    static Shared instance; // one process-wide fixture, as the gateway has one store
    return instance;
}

void request(benchmark::State &state, bool journaled)
{
    Shared &fixture = shared();
    if (journaled) {
        fixture.openJournal();
    }
    // Each thread drives its own keys (both threads share the teams), as workers serve
    // different clients.
    const std::size_t base = static_cast<std::size_t>(state.thread_index()) * 4;
    std::size_t turn = 0;
    qint64 now = QDateTime::currentMSecsSinceEpoch();
    for (auto _ : state) {
        const Subject &subject = fixture.subjects[(base + turn++ % 4) % fixture.subjects.size()];
        const qint64 estimateNanos = costNanos(fixture.price, {800, 0, 256});
        Reservation reservation;
        Refusal refusal;
        if (!fixture.store.reserve(&subject, 800 + 256, estimateNanos, now, reservation, refusal)) {
            state.SkipWithError("refused");
            break;
        }
        if (fixture.journal) {
            fixture.journal->reserved({reservation.id, now, subject.key, subject.team, fixture.route, reservation.tokens,
                                       reservation.costNanos});
        }
        const Usage usage {812, 400, 173};
        const qint64 cost = costNanos(fixture.price, usage);
        SettleAlerts alerts;
        fixture.store.settle(reservation, usage.total(), cost, now, alerts);
        if (fixture.journal) {
            SettlementRecord record;
            record.id = reservation.id;
            record.atMs = now;
            record.key = subject.key;
            record.team = subject.team;
            record.route = fixture.route;
            record.backend = "openai/gpt-4o";
            record.inputTokens = usage.inputTokens;
            record.cachedInputTokens = usage.cachedInputTokens;
            record.outputTokens = usage.outputTokens;
            record.costNanos = cost;
            fixture.journal->settled(std::move(record));
        }
        fixture.metrics.addSpend(subject.key, subject.team, fixture.route, cost, usage.inputTokens, usage.outputTokens);
        benchmark::DoNotOptimize(alerts.count);
        ++now; // a millisecond per request keeps the buckets refilling
    }
    // Outside the timing: let the writer catch up, so the next repetition measures the
    // queue push and not the drop path of a full queue.
    if (fixture.journal) {
        fixture.journal->flush();
        state.counters["dropped"] = static_cast<double>(fixture.journal->droppedJobs());
    }
}

void BM_ReserveSettleCost(benchmark::State &state)
{
    request(state, false);
}

void BM_ReserveSettleCostJournaled(benchmark::State &state)
{
    request(state, true);
}

} // namespace

BENCHMARK(BM_ReserveSettleCost)->Threads(1)->Threads(2)->UseRealTime();
// A fixed count: the loop produces requests far faster than any gateway (millions per
// second), and the writer commits a few hundred thousand rows per second; 100,000
// requests (200,000 jobs) per repetition stay well inside the queue's capacity.
BENCHMARK(BM_ReserveSettleCostJournaled)->Threads(1)->Threads(2)->UseRealTime()->Iterations(100000);

BENCHMARK_MAIN();
