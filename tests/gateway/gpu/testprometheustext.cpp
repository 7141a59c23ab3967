#include "gpu/prometheustext.h"

#include <QTest>

#include <cmath>
#include <limits>
#include <vector>

using Gateway::Gpu::findLabel;
using Gateway::Gpu::LabelCursor;
using Gateway::Gpu::MetricType;
using Gateway::Gpu::parsePrometheusText;
using Gateway::Gpu::PrometheusParseResult;
using Gateway::Gpu::PrometheusSample;
using Gateway::Gpu::PrometheusVisitor;
using Gateway::Gpu::unescapePrometheus;

namespace {

// Copies of what the parser handed out (the views die with the buffer).
struct SeenSample {
    QByteArray name;
    QByteArray labels;
    double value = 0.0;
    bool hasTimestamp = false;
    qint64 timestampMs = 0;
};

class Recorder final : public PrometheusVisitor {
public:
    void sample(const PrometheusSample &sample) override
    {
        samples.push_back({sample.name.toByteArray(), sample.labels.toByteArray(), sample.value, sample.hasTimestamp,
                           sample.timestampMs});
    }
    void help(QByteArrayView family, QByteArrayView escapedText) override
    {
        helps.emplace_back(family.toByteArray(), escapedText.toByteArray());
    }
    void type(QByteArrayView family, MetricType type) override { types.emplace_back(family.toByteArray(), type); }

    std::vector<SeenSample> samples;
    std::vector<std::pair<QByteArray, QByteArray>> helps;
    std::vector<std::pair<QByteArray, MetricType>> types;
};

struct Parsed {
    Recorder seen;
    PrometheusParseResult result;
};

Parsed parse(QByteArrayView text)
{
    Parsed parsed;
    parsed.result = parsePrometheusText(text, parsed.seen);
    return parsed;
}

// One well-formed sample line; fails the test otherwise.
SeenSample only(QByteArrayView line)
{
    const Parsed parsed = parse(line);
    if (parsed.result.malformedLines != 0 || parsed.seen.samples.size() != 1) {
        qFatal("expected exactly one sample from: %s", line.toByteArray().constData());
    }
    return parsed.seen.samples.front();
}

} // namespace

class TestPrometheusText final : public QObject {
    Q_OBJECT

private slots:
    void sampleWithoutLabels();
    void helpAndTypeLines();
    void namesWithColons();
    void labelValueEscapes();
    void bracesAndCommasInsideLabelValues();
    void values_data();
    void values();
    void timestamps();
    void blanksTabsAndLineEnds();
    void emptyAndTrailingCommaLabelSets();
    void ordinaryCommentsAreIgnored();
    void malformedLinesAreSkippedAndCounted_data();
    void malformedLinesAreSkippedAndCounted();
    void firstMalformedLineNumber();
    void labelCursorWalksEveryPair();
    void findLabelTellsMissingFromEmpty();
    void unescapeKeepsUnknownEscapes();
};

void TestPrometheusText::sampleWithoutLabels()
{
    const SeenSample sample = only("process_open_fds 71.0\n");
    QCOMPARE(sample.name, QByteArray("process_open_fds"));
    QVERIFY(sample.labels.isEmpty());
    QCOMPARE(sample.value, 71.0);
    QVERIFY(!sample.hasTimestamp);
}

void TestPrometheusText::helpAndTypeLines()
{
    const Parsed parsed = parse("# HELP vllm:num_requests_running Number of requests in model execution batches.\n"
                                "# TYPE vllm:num_requests_running gauge\n"
                                "# HELP tgi_request_count Requests with a \\\\ and a \\n in help\n"
                                "# TYPE tgi_request_count counter\n"
                                "# TYPE h histogram\n"
                                "# TYPE s summary\n"
                                "# TYPE u untyped\n"
                                "# HELP empty_help\n");
    QCOMPARE(parsed.result.malformedLines, 0);
    QCOMPARE(parsed.seen.helps.size(), std::size_t {3});
    QCOMPARE(parsed.seen.helps[0].first, QByteArray("vllm:num_requests_running"));
    QCOMPARE(parsed.seen.helps[0].second, QByteArray("Number of requests in model execution batches."));
    QCOMPARE(parsed.seen.helps[1].second, QByteArray("Requests with a \\\\ and a \\n in help"));
    QCOMPARE(unescapePrometheus(parsed.seen.helps[1].second), QByteArray("Requests with a \\ and a \n in help"));
    QCOMPARE(parsed.seen.helps[2].first, QByteArray("empty_help"));
    QVERIFY(parsed.seen.helps[2].second.isEmpty());

    QCOMPARE(parsed.seen.types.size(), std::size_t {5});
    QCOMPARE(parsed.seen.types[0].second, MetricType::Gauge);
    QCOMPARE(parsed.seen.types[1].first, QByteArray("tgi_request_count"));
    QCOMPARE(parsed.seen.types[1].second, MetricType::Counter);
    QCOMPARE(parsed.seen.types[2].second, MetricType::Histogram);
    QCOMPARE(parsed.seen.types[3].second, MetricType::Summary);
    QCOMPARE(parsed.seen.types[4].second, MetricType::Untyped);
    QCOMPARE(parsed.result.samples, 0);
}

void TestPrometheusText::namesWithColons()
{
    const SeenSample sample = only(R"(vllm:kv_cache_usage_perc{engine="0",model_name="Qwen/Qwen3-8B"} 0.42)");
    QCOMPARE(sample.name, QByteArray("vllm:kv_cache_usage_perc"));
    QCOMPARE(sample.labels, QByteArray(R"(engine="0",model_name="Qwen/Qwen3-8B")"));
    QCOMPARE(sample.value, 0.42);

    QCOMPARE(only(":leading:colon 1").name, QByteArray(":leading:colon"));
    QCOMPARE(only("_under_score9 1").name, QByteArray("_under_score9"));
}

void TestPrometheusText::labelValueEscapes()
{
    const SeenSample sample = only(R"(m{path="C:\\dir",quote="say \"hi\"",nl="one\ntwo"} 1)");
    const auto path = findLabel(sample.labels, "path");
    const auto quote = findLabel(sample.labels, "quote");
    const auto nl = findLabel(sample.labels, "nl");
    QVERIFY(path && quote && nl);
    QCOMPARE(path->toByteArray(), QByteArray(R"(C:\\dir)"));
    QCOMPARE(unescapePrometheus(*path), QByteArray(R"(C:\dir)"));
    QCOMPARE(unescapePrometheus(*quote), QByteArray(R"(say "hi")"));
    QCOMPARE(unescapePrometheus(*nl), QByteArray("one\ntwo"));
}

void TestPrometheusText::bracesAndCommasInsideLabelValues()
{
    const SeenSample sample = only(R"(m{x="}",y=",=",z="{a=\"b\"}"} 2 )");
    QCOMPARE(sample.value, 2.0);
    QCOMPARE(findLabel(sample.labels, "x")->toByteArray(), QByteArray("}"));
    QCOMPARE(findLabel(sample.labels, "y")->toByteArray(), QByteArray(",="));
    QCOMPARE(unescapePrometheus(*findLabel(sample.labels, "z")), QByteArray(R"({a="b"})"));
}

void TestPrometheusText::values_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<double>("expected");
    const double inf = std::numeric_limits<double>::infinity();
    QTest::newRow("integer") << QByteArray("33065") << 33065.0;
    QTest::newRow("decimal") << QByteArray("0.007507552643049313") << 0.007507552643049313;
    QTest::newRow("negative") << QByteArray("-1.0") << -1.0;
    QTest::newRow("explicit plus") << QByteArray("+2.5") << 2.5;
    QTest::newRow("go exponent") << QByteArray("8.128902e+06") << 8128902.0;
    QTest::newRow("three-digit exponent") << QByteArray("4.8229314048e+010") << 48229314048.0;
    QTest::newRow("upper-case exponent") << QByteArray("1.5E-3") << 0.0015;
    QTest::newRow("bare exponent") << QByteArray("1e+06") << 1e6;
    QTest::newRow("+Inf") << QByteArray("+Inf") << inf;
    QTest::newRow("-Inf") << QByteArray("-Inf") << -inf;
    QTest::newRow("Inf") << QByteArray("Inf") << inf;
}

void TestPrometheusText::values()
{
    QFETCH(QByteArray, text);
    QFETCH(double, expected);
    const SeenSample sample = only(QByteArray {QByteArray("m{le=\"+Inf\"} ") + text});
    QCOMPARE(sample.value, expected);

    const SeenSample nan = only("m NaN");
    QVERIFY(std::isnan(nan.value));
}

void TestPrometheusText::timestamps()
{
    const SeenSample sample = only("http_requests_total{method=\"post\",code=\"200\"} 1027 1395066363000");
    QCOMPARE(sample.value, 1027.0);
    QVERIFY(sample.hasTimestamp);
    QCOMPARE(sample.timestampMs, qint64 {1395066363000});

    const SeenSample negative = only("m 1 -1395066363000");
    QCOMPARE(negative.timestampMs, qint64 {-1395066363000});
}

void TestPrometheusText::blanksTabsAndLineEnds()
{
    const Parsed parsed = parse("\n"
                                "  \t a 1\r\n"
                                "b\t\t2\t\n"
                                "c {x=\"1\"}\t3\r\n"
                                "d{ x = \"1\" , y=\"2\" }4 5\n"
                                "\r\n"
                                "e 6"); // no newline at the end
    QCOMPARE(parsed.result.malformedLines, 0);
    QCOMPARE(parsed.result.samples, 5);
    const auto &s = parsed.seen.samples;
    QCOMPARE(s[0].name, QByteArray("a"));
    QCOMPARE(s[0].value, 1.0);
    QCOMPARE(s[1].value, 2.0);
    QCOMPARE(s[2].name, QByteArray("c"));
    QCOMPARE(findLabel(s[2].labels, "x")->toByteArray(), QByteArray("1"));
    QCOMPARE(s[3].value, 4.0);
    QCOMPARE(s[3].timestampMs, qint64 {5});
    QCOMPARE(findLabel(s[3].labels, "y")->toByteArray(), QByteArray("2"));
    QCOMPARE(s[4].name, QByteArray("e"));
    QCOMPARE(s[4].value, 6.0);
}

void TestPrometheusText::emptyAndTrailingCommaLabelSets()
{
    QVERIFY(only("m{} 1").labels.isEmpty());
    const SeenSample trailing = only(R"(m{a="1",} 2)");
    QCOMPARE(findLabel(trailing.labels, "a")->toByteArray(), QByteArray("1"));
}

void TestPrometheusText::ordinaryCommentsAreIgnored()
{
    const Parsed parsed = parse("#\n# just a comment\n#HELPLESS text\n# EOF\n# HELPING hand\nm 1\n");
    QCOMPARE(parsed.result.malformedLines, 0);
    QCOMPARE(parsed.result.samples, 1);
    QVERIFY(parsed.seen.helps.empty());
}

void TestPrometheusText::malformedLinesAreSkippedAndCounted_data()
{
    QTest::addColumn<QByteArray>("line");
    QTest::newRow("no value") << QByteArray("metric_without_value");
    QTest::newRow("no value after labels") << QByteArray(R"(m{a="b"})");
    QTest::newRow("word as value") << QByteArray("m abc");
    QTest::newRow("two dots") << QByteArray("m 1.0.0");
    QTest::newRow("double sign") << QByteArray("m +-1");
    QTest::newRow("double plus") << QByteArray("m ++1");
    QTest::newRow("value out of range") << QByteArray("m 1e999");
    QTest::newRow("unterminated value") << QByteArray(R"(m{a="b} 1)");
    QTest::newRow("unknown escape") << QByteArray(R"(m{a="tab\there"} 1)");
    QTest::newRow("label name starts with digit") << QByteArray(R"(m{1a="b"} 1)");
    QTest::newRow("colon in label name") << QByteArray(R"(m{a:b="c"} 1)");
    QTest::newRow("unquoted label value") << QByteArray("m{a=b} 1");
    QTest::newRow("missing equals") << QByteArray(R"(m{a "b"} 1)");
    QTest::newRow("missing comma") << QByteArray(R"(m{a="1" b="2"} 1)");
    QTest::newRow("leading comma") << QByteArray(R"(m{,a="1"} 1)");
    QTest::newRow("unclosed braces") << QByteArray(R"(m{a="1" 1)");
    QTest::newRow("name starts with digit") << QByteArray("9m 1");
    QTest::newRow("bad character in name") << QByteArray("m-x 1");
    QTest::newRow("timestamp not an integer") << QByteArray("m 1 2.5");
    QTest::newRow("garbage after timestamp") << QByteArray("m 1 2 3");
    QTest::newRow("unknown type") << QByteArray("# TYPE m gaugeish");
    QTest::newRow("type without name") << QByteArray("# TYPE");
    QTest::newRow("type without type") << QByteArray("# TYPE m");
    QTest::newRow("type with extra word") << QByteArray("# TYPE m gauge extra");
    QTest::newRow("help with bad name") << QByteArray("# HELP 9m text");
}

void TestPrometheusText::malformedLinesAreSkippedAndCounted()
{
    QFETCH(QByteArray, line);
    const QByteArray text = QByteArray("before 1\n") + line + QByteArray("\nafter 2\n");
    const Parsed parsed = parse(text);
    QCOMPARE(parsed.result.malformedLines, 1);
    QCOMPARE(parsed.result.firstMalformedLine, 2);
    QCOMPARE(parsed.result.samples, 2);
    QCOMPARE(parsed.seen.samples.front().name, QByteArray("before"));
    QCOMPARE(parsed.seen.samples.back().name, QByteArray("after"));
    QCOMPARE(parsed.seen.samples.back().value, 2.0);
}

void TestPrometheusText::firstMalformedLineNumber()
{
    const Parsed parsed = parse("a 1\nb 2\n\nbroken{\nc 3\nalso broken\n");
    QCOMPARE(parsed.result.malformedLines, 2);
    QCOMPARE(parsed.result.firstMalformedLine, 4);
    QCOMPARE(parsed.result.samples, 3);
}

void TestPrometheusText::labelCursorWalksEveryPair()
{
    const SeenSample sample = only(R"(m{ a="1", b = "two words" ,c="\"3\""} 1)");
    LabelCursor cursor {sample.labels};
    QByteArrayView name;
    QByteArrayView value;
    QList<QByteArray> seen;
    while (cursor.next(name, value)) {
        seen << name.toByteArray() + '=' + unescapePrometheus(value);
    }
    QCOMPARE(seen, (QList<QByteArray> {"a=1", "b=two words", "c=\"3\""}));
}

void TestPrometheusText::findLabelTellsMissingFromEmpty()
{
    const SeenSample sample = only(R"(m{empty="",full="x"} 1)");
    const auto empty = findLabel(sample.labels, "empty");
    QVERIFY(empty.has_value());
    QVERIFY(empty->isEmpty());
    QVERIFY(!findLabel(sample.labels, "missing").has_value());
    QVERIFY(!findLabel(sample.labels, "ful").has_value()); // no prefix matches
}

void TestPrometheusText::unescapeKeepsUnknownEscapes()
{
    QCOMPARE(unescapePrometheus(R"(a\tb\)"), QByteArray(R"(a\tb\)"));
    QCOMPARE(unescapePrometheus("plain"), QByteArray("plain"));
}

QTEST_APPLESS_MAIN(TestPrometheusText)
#include "testprometheustext.moc"
