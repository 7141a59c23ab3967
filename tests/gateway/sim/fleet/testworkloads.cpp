#include "sim/fleet/workloads.h"

#include "routing/promptblocks.h"

#include <QTest>

#include <algorithm>
#include <map>

using namespace Gateway::Sim::Fleet;

namespace {

constexpr WorkloadKind ALL_KINDS[] = {WorkloadKind::SharedPrefix,  WorkloadKind::ManySystemPrompts,
                                      WorkloadKind::MultiTurnChat, WorkloadKind::LongQuestions,
                                      WorkloadKind::HotPrefixes,   WorkloadKind::HotPrefixesZipf};

bool sameSpans(const std::vector<TextSpan> &a, const std::vector<TextSpan> &b)
{
    return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const TextSpan &x, const TextSpan &y) {
        return x.seed == y.seed && x.tokens == y.tokens && x.shared == y.shared;
    });
}

bool sameWorkload(const Workload &a, const Workload &b)
{
    if (a.requests.size() != b.requests.size() || a.completionsReused != b.completionsReused
        || a.kvBlocksPerServer != b.kvBlocksPerServer) {
        return false;
    }
    for (std::size_t i = 0; i < a.requests.size(); ++i) {
        const SimRequest &x = a.requests[i];
        const SimRequest &y = b.requests[i];
        if (x.arrival != y.arrival || !sameSpans(x.prompt, y.prompt) || x.completion.seed != y.completion.seed
            || x.outputTokens != y.outputTokens || x.promptTokens != y.promptTokens || x.session != y.session
            || x.prefixGroup != y.prefixGroup) {
            return false;
        }
    }
    return true;
}

QByteArray render(const std::vector<TextSpan> &spans)
{
    PromptRenderer renderer;
    QByteArray text;
    for (const TextSpan &span : spans) {
        renderer.append(text, span);
    }
    return text;
}

WorkloadSpec spec(WorkloadKind kind, double rate, double seconds, std::uint64_t seed = 7)
{
    WorkloadSpec s;
    s.kind = kind;
    s.rate = rate;
    s.horizon = fromSeconds(seconds);
    s.seed = seed;
    return s;
}

} // namespace

class TestWorkloads final : public QObject {
    Q_OBJECT

private slots:
    void sameSeedSameWorkload();
    void otherSeedOtherWorkload();
    void arrivalsAreSortedAndInsideTheHorizon();
    void sharedPrefixBurstIsOneShuffledRound();
    void poissonRateIsHonoured();
    void rampGrowsAndSizesTheCache();
    void tokensAreFourCharacterWordsAndBlocksAlign();
    void chatTurnsExtendTheConversation();
    void hotZipfFavoursTheFirstGroup();
    void namesRoundTrip();
};

void TestWorkloads::sameSeedSameWorkload()
{
    for (const WorkloadKind kind : ALL_KINDS) {
        const Workload a = generateWorkload(spec(kind, 20.0, 20.0));
        const Workload b = generateWorkload(spec(kind, 20.0, 20.0));
        QVERIFY2(!a.requests.empty(), qPrintable(workloadName(kind)));
        QVERIFY2(sameWorkload(a, b), qPrintable(workloadName(kind)));
    }
}

void TestWorkloads::otherSeedOtherWorkload()
{
    for (const WorkloadKind kind : ALL_KINDS) {
        const Workload a = generateWorkload(spec(kind, 20.0, 20.0, 1));
        const Workload b = generateWorkload(spec(kind, 20.0, 20.0, 2));
        QVERIFY2(!sameWorkload(a, b), qPrintable(workloadName(kind)));
    }
}

void TestWorkloads::arrivalsAreSortedAndInsideTheHorizon()
{
    for (const WorkloadKind kind : ALL_KINDS) {
        const Workload w = generateWorkload(spec(kind, 30.0, 10.0));
        QVERIFY(std::is_sorted(w.requests.begin(), w.requests.end(),
                               [](const SimRequest &a, const SimRequest &b) { return a.arrival < b.arrival; }));
        for (std::size_t i = 0; i < w.requests.size(); ++i) {
            QCOMPARE(w.requests[i].id, std::uint64_t {i});
            QVERIFY(w.requests[i].arrival >= 0 && w.requests[i].arrival < fromSeconds(10.0));
            QVERIFY(w.requests[i].promptTokens >= 1 && w.requests[i].outputTokens >= 1);
        }
    }
}

void TestWorkloads::sharedPrefixBurstIsOneShuffledRound()
{
    WorkloadSpec s = spec(WorkloadKind::SharedPrefix, 0.0, 0.0);
    s.burst = true;
    const Workload w = generateWorkload(s);
    QCOMPARE(w.requests.size(), std::size_t {1024});
    std::map<int, int> perGroup;
    for (const SimRequest &r : w.requests) {
        QCOMPARE(r.arrival, SimTime {0});
        QCOMPARE(r.promptTokens, 2048 + 128);
        QCOMPARE(r.outputTokens, 256);
        QVERIFY(r.prompt.front().shared);
        ++perGroup[r.prefixGroup];
    }
    QCOMPARE(perGroup.size(), std::size_t {64});
    for (const auto &[group, count] : perGroup) {
        QCOMPARE(count, 16);
    }
    // Shuffled: the first 16 requests are not one group.
    QVERIFY(std::any_of(w.requests.begin(), w.requests.begin() + 16,
                        [&](const SimRequest &r) { return r.prefixGroup != w.requests.front().prefixGroup; }));
    QVERIFY(!w.completionsReused);
}

void TestWorkloads::poissonRateIsHonoured()
{
    // 5,000 expected arrivals: within 4 standard deviations (sqrt(5000) ~ 71).
    const Workload w = generateWorkload(spec(WorkloadKind::LongQuestions, 50.0, 100.0));
    QVERIFY(std::abs(static_cast<double>(w.requests.size()) - 5000.0) < 4 * 71);
    QCOMPARE(w.requests.front().promptTokens, 1000 + 6200);
    QCOMPARE(w.requests.front().outputTokens, 1000);
}

void TestWorkloads::rampGrowsAndSizesTheCache()
{
    const Workload w = generateWorkload(spec(WorkloadKind::ManySystemPrompts, 20.0, 200.0));
    // Mean rate 20 over 200 s: ~4,000 arrivals.
    QVERIFY(std::abs(static_cast<double>(w.requests.size()) - 4000.0) < 4 * 64);
    const auto firstQuarter = std::count_if(w.requests.begin(), w.requests.end(),
                                            [](const SimRequest &r) { return r.arrival < fromSeconds(50.0); });
    const auto lastQuarter = std::count_if(w.requests.begin(), w.requests.end(),
                                           [](const SimRequest &r) { return r.arrival >= fromSeconds(150.0); });
    QVERIFY(lastQuarter > 3 * firstQuarter);
    // 150 x (6000 + 5 x 1200) tokens = 73% of 8 servers x 19264 blocks x 16 tokens (llm-d's
    // pods held 307,328 tokens = 19,208 blocks).
    QCOMPARE(w.kvBlocksPerServer, std::optional<int> {19264});
    QCOMPARE(manySystemPromptsKvBlocks(8), 19264);
    QCOMPARE(w.requests.front().promptTokens, 6000 + 1200);
}

void TestWorkloads::tokensAreFourCharacterWordsAndBlocksAlign()
{
    WorkloadSpec s = spec(WorkloadKind::SharedPrefix, 0.0, 0.0);
    s.burst = true;
    const Workload w = generateWorkload(s);
    const SimRequest &a = w.requests.front();
    const auto sibling = std::find_if(w.requests.begin() + 1, w.requests.end(),
                                      [&](const SimRequest &r) { return r.prefixGroup == a.prefixGroup; });
    const auto stranger = std::find_if(w.requests.begin() + 1, w.requests.end(),
                                       [&](const SimRequest &r) { return r.prefixGroup != a.prefixGroup; });
    const QByteArray textA = render(a.prompt);
    QCOMPARE(textA.size(), qsizetype {4 * 2176});
    QVERIFY(std::all_of(textA.begin(), textA.end(), [](char c) { return c >= 'a' && c <= 'z'; }));
    // The gateway's 64-character blocks are 16-token blocks: the 2048-token system prompt
    // is exactly 128 shared blocks.
    const auto hashesA = Gateway::Routing::PromptBlockHasher::hash("m", textA);
    const auto hashesB = Gateway::Routing::PromptBlockHasher::hash("m", render(sibling->prompt));
    const auto hashesC = Gateway::Routing::PromptBlockHasher::hash("m", render(stranger->prompt));
    QCOMPARE(hashesA.size(), std::size_t {136});
    const auto common = std::mismatch(hashesA.begin(), hashesA.end(), hashesB.begin()).first - hashesA.begin();
    QCOMPARE(common, std::ptrdiff_t {128});
    QVERIFY(hashesA.front() != hashesC.front());
}

void TestWorkloads::chatTurnsExtendTheConversation()
{
    const Workload w = generateWorkload(spec(WorkloadKind::MultiTurnChat, 5.0, 120.0));
    QVERIFY(w.completionsReused);
    std::map<QByteArray, const SimRequest *> last;
    int continued = 0;
    for (const SimRequest &r : w.requests) {
        QVERIFY(!r.session.isEmpty());
        QCOMPARE(r.outputTokens, 100);
        const auto it = last.find(r.session);
        if (it != last.end()) {
            // This turn's prompt = the previous prompt + its answer + a new question.
            std::vector<TextSpan> expected = it->second->prompt;
            expected.push_back(it->second->completion);
            QVERIFY(r.prompt.size() == expected.size() + 1);
            QVERIFY(sameSpans(std::vector<TextSpan>(r.prompt.begin(), r.prompt.end() - 1), expected));
            ++continued;
        }
        last[r.session] = &r;
    }
    QVERIFY(continued > static_cast<int>(w.requests.size()) / 2);
}

void TestWorkloads::hotZipfFavoursTheFirstGroup()
{
    // Zipf(1) over 6 groups: the first has 1 / H(6) = 40.8% of the traffic.
    const Workload w = generateWorkload(spec(WorkloadKind::HotPrefixesZipf, 100.0, 40.0));
    const auto first = std::count_if(w.requests.begin(), w.requests.end(), [](const SimRequest &r) { return r.prefixGroup == 0; });
    const double share = static_cast<double>(first) / static_cast<double>(w.requests.size());
    QVERIFY2(std::abs(share - 0.408) < 0.03, qPrintable(QString::number(share)));
    const Workload uniform = generateWorkload(spec(WorkloadKind::HotPrefixes, 100.0, 40.0));
    const auto uniformFirst = std::count_if(uniform.requests.begin(), uniform.requests.end(), [](const SimRequest &r) { return r.prefixGroup == 0; });
    QVERIFY(std::abs(static_cast<double>(uniformFirst) / static_cast<double>(uniform.requests.size()) - 1.0 / 6) < 0.03);
}

void TestWorkloads::namesRoundTrip()
{
    for (const WorkloadKind kind : ALL_KINDS) {
        QCOMPARE(workloadKindFromName(workloadName(kind).toStdString()), std::optional<WorkloadKind> {kind});
    }
    QCOMPARE(workloadKindFromName("gsp"), std::optional<WorkloadKind> {WorkloadKind::SharedPrefix});
    QVERIFY(!workloadKindFromName("W9"));
}

QTEST_APPLESS_MAIN(TestWorkloads)
#include "testworkloads.moc"
