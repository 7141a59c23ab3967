#include "sim/fleet/requestlog.h"

#include <QTest>

using namespace Gateway::Sim::Fleet;

namespace {

int sharedLeadingTokens(const SimRequest &a, const SimRequest &b)
{
    int tokens = 0;
    for (std::size_t i = 0; i < a.prompt.size() && i < b.prompt.size(); ++i) {
        if (a.prompt[i].seed != b.prompt[i].seed || a.prompt[i].tokens != b.prompt[i].tokens) {
            break;
        }
        tokens += a.prompt[i].tokens;
    }
    return tokens;
}

} // namespace

class TestRequestLog final : public QObject {
    Q_OBJECT

private slots:
    void parsesCsvInAnyColumnOrder();
    void parsesJsonLines();
    void groupsShareTheirPrefix();
    void sessionsContinueTheirConversation();
    void sortsByArrivalAndAppliesSpeedup();
    void reportsTheFailingLine();
    void sameSeedSameReplay();
};

void TestRequestLog::parsesCsvInAnyColumnOrder()
{
    const QByteArray csv = "# recorded at the edge\n"
                           "session,prefix_group,output_tokens,prompt_tokens,arrival_ms\n"
                           "a,3,50,400,0\n"
                           ",,20,100,1500.5\n";
    const RequestLogResult result = parseRequestLog(csv, RequestLogFormat::Csv, 1);
    QVERIFY2(result.workload, qPrintable(result.error));
    const Workload &w = *result.workload;
    QCOMPARE(w.requests.size(), std::size_t {2});
    QCOMPARE(w.requests[0].promptTokens, 400);
    QCOMPARE(w.requests[0].outputTokens, 50);
    QCOMPARE(w.requests[0].prefixGroup, 3);
    QCOMPARE(w.requests[0].session, QByteArray("a"));
    QCOMPARE(w.requests[1].arrival, SimTime {1'500'500});
    QCOMPARE(w.requests[1].prefixGroup, -1);
    QVERIFY(w.requests[1].session.isEmpty());
    QCOMPARE(w.requests[1].prompt.size(), std::size_t {1});
    QCOMPARE(w.requests[1].prompt[0].tokens, 100);
}

void TestRequestLog::parsesJsonLines()
{
    const QByteArray jsonl = R"({"arrival_ms": 10, "prompt_tokens": 300, "output_tokens": 30, "prefix_group": 1, "session": 42, "prefix_tokens": 200}
{"arrival_ms": 20, "prompt_tokens": 250, "output_tokens": 5, "prefix_group": null}
)";
    const RequestLogResult result = parseRequestLog(jsonl, RequestLogFormat::JsonLines, 1);
    QVERIFY2(result.workload, qPrintable(result.error));
    const Workload &w = *result.workload;
    QCOMPARE(w.requests.size(), std::size_t {2});
    QCOMPARE(w.requests[0].session, QByteArray("42"));
    QCOMPARE(w.requests[0].prompt[0].tokens, 200);
    QVERIFY(w.requests[0].prompt[0].shared);
    QCOMPARE(w.requests[1].prefixGroup, -1);
}

void TestRequestLog::groupsShareTheirPrefix()
{
    // No prefix_tokens: the group shares its shortest prompt minus one token (299).
    const QByteArray csv = "arrival_ms,prompt_tokens,output_tokens,prefix_group,session\n"
                           "0,300,10,7,\n"
                           "1,500,10,7,\n"
                           "2,500,10,8,\n";
    const RequestLogResult result = parseRequestLog(csv, RequestLogFormat::Csv, 1);
    QVERIFY2(result.workload, qPrintable(result.error));
    const auto &r = result.workload->requests;
    QCOMPARE(sharedLeadingTokens(r[0], r[1]), 299);
    QCOMPARE(sharedLeadingTokens(r[1], r[2]), 0);
    QCOMPARE(r[1].promptTokens, 500);
}

void TestRequestLog::sessionsContinueTheirConversation()
{
    const QByteArray csv = "arrival_ms,prompt_tokens,output_tokens,prefix_group,session\n"
                           "0,100,20,,s\n"
                           "5000,150,20,,s\n"  // >= 100 + 20: continues
                           "9000,50,20,,s\n";  // shorter: a fresh prompt
    const RequestLogResult result = parseRequestLog(csv, RequestLogFormat::Csv, 1);
    QVERIFY2(result.workload, qPrintable(result.error));
    const Workload &w = *result.workload;
    QVERIFY(w.completionsReused);
    const auto &r = w.requests;
    QCOMPARE(sharedLeadingTokens(r[0], r[1]), 100);
    QCOMPARE(r[1].prompt[1].seed, r[0].completion.seed); // the previous answer comes back
    QCOMPARE(r[1].promptTokens, 150);
    QCOMPARE(sharedLeadingTokens(r[1], r[2]), 0);
}

void TestRequestLog::sortsByArrivalAndAppliesSpeedup()
{
    const QByteArray csv = "arrival_ms,prompt_tokens,output_tokens,prefix_group,session\n"
                           "2000,10,1,,\n"
                           "1000,20,1,,\n";
    const RequestLogResult result = parseRequestLog(csv, RequestLogFormat::Csv, 1, 2.0);
    QVERIFY2(result.workload, qPrintable(result.error));
    const auto &r = result.workload->requests;
    QCOMPARE(r[0].promptTokens, 20);
    QCOMPARE(r[0].arrival, SimTime {500'000});
    QCOMPARE(r[1].arrival, SimTime {1'000'000});
    QCOMPARE(r[0].id, std::uint64_t {0});
}

void TestRequestLog::reportsTheFailingLine()
{
    const QByteArray missing = "arrival_ms,prompt_tokens,output_tokens,session\n0,1,1,\n";
    QVERIFY(parseRequestLog(missing, RequestLogFormat::Csv, 1).error.contains(QLatin1StringView("prefix_group")));
    const QByteArray bad = "arrival_ms,prompt_tokens,output_tokens,prefix_group,session\n0,10,1,,\nsoon,10,1,,\n";
    QCOMPARE(parseRequestLog(bad, RequestLogFormat::Csv, 1).error, QStringLiteral("line 3: arrival_ms is not a number"));
    const QByteArray zero = "arrival_ms,prompt_tokens,output_tokens,prefix_group,session\n0,0,1,,\n";
    QVERIFY(parseRequestLog(zero, RequestLogFormat::Csv, 1).error.startsWith(QLatin1StringView("line 2:")));
    const RequestLogResult json = parseRequestLog("{\"arrival_ms\": 1}\n", RequestLogFormat::JsonLines, 1);
    QVERIFY(!json.workload);
    QVERIFY(json.error.startsWith(QLatin1StringView("line 1:")));
}

void TestRequestLog::sameSeedSameReplay()
{
    const QByteArray csv = "arrival_ms,prompt_tokens,output_tokens,prefix_group,session\n0,64,1,1,\n1,64,1,1,\n";
    const auto a = parseRequestLog(csv, RequestLogFormat::Csv, 5);
    const auto b = parseRequestLog(csv, RequestLogFormat::Csv, 5);
    const auto c = parseRequestLog(csv, RequestLogFormat::Csv, 6);
    QCOMPARE(a.workload->requests[1].prompt.back().seed, b.workload->requests[1].prompt.back().seed);
    QVERIFY(a.workload->requests[1].prompt.back().seed != c.workload->requests[1].prompt.back().seed);
}

QTEST_APPLESS_MAIN(TestRequestLog)
#include "testrequestlog.moc"
