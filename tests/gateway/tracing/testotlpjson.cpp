// The pure parts of tracing: the OTLP/JSON encoding (checked by parsing what it wrote),
// W3C traceparent parsing and formatting, id generation and ratio sampling, and what
// the gen_ai/switchyard attributes are read from (finish reasons, the route reason).

#include "tracing/genai.h"
#include "tracing/otlpjson.h"
#include "tracing/spanids.h"
#include "tracing/tracecontext.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSet>
#include <QTest>

#include <cstdlib>
#include <limits>

using namespace Gateway::Tracing;

namespace {

template <std::size_t N>
std::array<std::uint8_t, N> bytes(std::uint8_t first)
{
    std::array<std::uint8_t, N> out {};
    for (std::size_t i = 0; i < N; ++i) {
        out[i] = static_cast<std::uint8_t>(first + i);
    }
    return out;
}

QJsonObject attribute(const QJsonArray &attributes, const QString &key)
{
    for (const QJsonValue &entry : attributes) {
        if (entry.toObject().value(QStringLiteral("key")).toString() == key) {
            return entry.toObject().value(QStringLiteral("value")).toObject();
        }
    }
    return {};
}

} // namespace

class TestOtlpJson final : public QObject {
    Q_OBJECT

private slots:
    void encodesTheOtlpJsonShape() const
    {
        Span server;
        server.traceId = bytes<16>(0xa0);
        server.spanId = bytes<8>(0x10);
        server.name = "chat gpt-4o";
        server.kind = SpanKind::Server;
        server.startUnixNano = 1700000000123456789LL;
        server.endUnixNano = 1700000000987654321LL;
        server.set("gen_ai.request.model", QByteArray("gpt-4o \"quoted\""));
        server.set("gen_ai.usage.input_tokens", qint64 {9007199254740993LL}); // beyond a double's precision
        server.set("switchyard.ttft_ms", 12.5);
        server.set("switchyard.stream", true);
        server.set("gen_ai.response.finish_reasons", std::vector<QByteArray> {"stop", "length"});
        Span attempt;
        attempt.traceId = server.traceId;
        attempt.spanId = bytes<8>(0x20);
        attempt.parentSpanId = server.spanId;
        attempt.name = "chat openai/gpt-4o";
        attempt.kind = SpanKind::Client;
        attempt.status = StatusCode::Error;
        attempt.statusMessage = "answered 503";
        const std::vector<Span> spans {server, attempt};

        const QByteArray json = encodeOtlpJson(spans, {"switchyard-test", "1.2.3"});
        QJsonParseError error;
        const QJsonDocument document = QJsonDocument::fromJson(json, &error);
        QCOMPARE(error.error, QJsonParseError::NoError);
        const QJsonArray resourceSpans = document.object().value(QStringLiteral("resourceSpans")).toArray();
        QCOMPARE(resourceSpans.size(), 1);
        const QJsonObject resource = resourceSpans[0].toObject();
        const QJsonArray resourceAttributes = resource.value(QStringLiteral("resource")).toObject().value(QStringLiteral("attributes")).toArray();
        QCOMPARE(attribute(resourceAttributes, QStringLiteral("service.name")).value(QStringLiteral("stringValue")).toString(),
                 QStringLiteral("switchyard-test"));
        QCOMPARE(attribute(resourceAttributes, QStringLiteral("service.version")).value(QStringLiteral("stringValue")).toString(),
                 QStringLiteral("1.2.3"));
        const QJsonArray scopeSpans = resource.value(QStringLiteral("scopeSpans")).toArray();
        QCOMPARE(scopeSpans.size(), 1);
        QVERIFY(!scopeSpans[0].toObject().value(QStringLiteral("scope")).toObject().value(QStringLiteral("name")).toString().isEmpty());
        const QJsonArray encoded = scopeSpans[0].toObject().value(QStringLiteral("spans")).toArray();
        QCOMPARE(encoded.size(), 2);

        const QJsonObject first = encoded[0].toObject();
        // Ids are lower-case hex (OTLP/JSON), not base64 (proto3 JSON's default for bytes).
        QCOMPARE(first.value(QStringLiteral("traceId")).toString(), QStringLiteral("a0a1a2a3a4a5a6a7a8a9aaabacadaeaf"));
        QCOMPARE(first.value(QStringLiteral("spanId")).toString(), QStringLiteral("1011121314151617"));
        QVERIFY(!first.contains(QStringLiteral("parentSpanId")));
        QCOMPARE(first.value(QStringLiteral("name")).toString(), QStringLiteral("chat gpt-4o"));
        QCOMPARE(first.value(QStringLiteral("kind")).toInt(), 2);
        // Times are decimal strings: a double could not hold them exactly.
        QVERIFY(first.value(QStringLiteral("startTimeUnixNano")).isString());
        QCOMPARE(first.value(QStringLiteral("startTimeUnixNano")).toString(), QStringLiteral("1700000000123456789"));
        QCOMPARE(first.value(QStringLiteral("endTimeUnixNano")).toString(), QStringLiteral("1700000000987654321"));
        const QJsonArray attributes = first.value(QStringLiteral("attributes")).toArray();
        QCOMPARE(attribute(attributes, QStringLiteral("gen_ai.request.model")).value(QStringLiteral("stringValue")).toString(),
                 QStringLiteral("gpt-4o \"quoted\""));
        const QJsonValue tokens = attribute(attributes, QStringLiteral("gen_ai.usage.input_tokens")).value(QStringLiteral("intValue"));
        QVERIFY(tokens.isString());
        QCOMPARE(tokens.toString(), QStringLiteral("9007199254740993"));
        QCOMPARE(attribute(attributes, QStringLiteral("switchyard.ttft_ms")).value(QStringLiteral("doubleValue")).toDouble(), 12.5);
        QCOMPARE(attribute(attributes, QStringLiteral("switchyard.stream")).value(QStringLiteral("boolValue")).toBool(), true);
        const QJsonArray reasons = attribute(attributes, QStringLiteral("gen_ai.response.finish_reasons"))
                                       .value(QStringLiteral("arrayValue")).toObject().value(QStringLiteral("values")).toArray();
        QCOMPARE(reasons.size(), 2);
        QCOMPARE(reasons[1].toObject().value(QStringLiteral("stringValue")).toString(), QStringLiteral("length"));
        QCOMPARE(first.value(QStringLiteral("status")).toObject().value(QStringLiteral("code")).toInt(), 0);

        const QJsonObject second = encoded[1].toObject();
        QCOMPARE(second.value(QStringLiteral("parentSpanId")).toString(), QStringLiteral("1011121314151617"));
        QCOMPARE(second.value(QStringLiteral("kind")).toInt(), 3);
        QCOMPARE(second.value(QStringLiteral("status")).toObject().value(QStringLiteral("code")).toInt(), 2);
        QCOMPARE(second.value(QStringLiteral("status")).toObject().value(QStringLiteral("message")).toString(),
                 QStringLiteral("answered 503"));
    }

    void nonFiniteDoublesStayValidJson() const
    {
        Span span;
        span.traceId = bytes<16>(1);
        span.spanId = bytes<8>(1);
        span.set("a", std::numeric_limits<double>::quiet_NaN());
        span.set("b", std::numeric_limits<double>::infinity());
        const std::vector<Span> spans {span};
        QJsonParseError error;
        QJsonDocument::fromJson(encodeOtlpJson(spans, {"s", {}}), &error);
        QCOMPARE(error.error, QJsonParseError::NoError);
    }

    void traceparentRoundTrips() const
    {
        const QByteArray header = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        const auto context = parseTraceparent(header);
        QVERIFY(context);
        QCOMPARE(toHex(context->traceId), QByteArray("0af7651916cd43dd8448eb211c80319c"));
        QCOMPARE(toHex(context->spanId), QByteArray("b7ad6b7169203331"));
        QVERIFY(context->sampled);
        QCOMPARE(context->traceparent(), header);

        const auto unsampled = parseTraceparent("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00");
        QVERIFY(unsampled);
        QVERIFY(!unsampled->sampled);
        // Other flag bits do not change the sampled bit.
        QVERIFY(parseTraceparent("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-03")->sampled);
        // A later version may append fields; its first four are read.
        QVERIFY(parseTraceparent("01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra"));
    }

    void malformedTraceparentIsIgnored_data() const
    {
        QTest::addColumn<QByteArray>("header");
        QTest::newRow("empty") << QByteArray();
        QTest::newRow("upper-case hex") << QByteArray("00-0AF7651916CD43DD8448EB211C80319C-B7AD6B7169203331-01");
        QTest::newRow("zero trace id") << QByteArray("00-00000000000000000000000000000000-b7ad6b7169203331-01");
        QTest::newRow("zero span id") << QByteArray("00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01");
        QTest::newRow("version ff") << QByteArray("ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
        QTest::newRow("short trace id") << QByteArray("00-0af7651916cd43dd8448eb211c8031-b7ad6b7169203331-01");
        QTest::newRow("version 00 with extra") << QByteArray("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-x");
        QTest::newRow("wrong separator") << QByteArray("00_0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    }

    void malformedTraceparentIsIgnored() const
    {
        QFETCH(QByteArray, header);
        QVERIFY(!parseTraceparent(header));
    }

    void idsAreRandomAndNonZero() const
    {
        QSet<QByteArray> traces;
        QSet<QByteArray> spans;
        for (int i = 0; i < 1000; ++i) {
            const TraceId trace = newTraceId();
            const SpanId span = newSpanId();
            QVERIFY(!isZero(trace));
            QVERIFY(!isZero(span));
            traces.insert(toHex(trace));
            spans.insert(toHex(span));
        }
        QCOMPARE(traces.size(), 1000);
        QCOMPARE(spans.size(), 1000);
    }

    void ratioSamplingFollowsTheRatio() const
    {
        constexpr int draws = 20000;
        int sampled = 0;
        for (int i = 0; i < draws; ++i) {
            const TraceId id = newTraceId();
            QVERIFY(sampledByRatio(id, 1.0));
            QVERIFY(!sampledByRatio(id, 0.0));
            sampled += sampledByRatio(id, 0.25) ? 1 : 0;
        }
        // Binomial(20000, 0.25): sd ~61; 6 sd either way.
        QVERIFY2(std::abs(sampled - draws / 4) < 370, qPrintable(QString::number(sampled)));
    }

    void finishReasonsAreCollectedOnce() const
    {
        std::vector<QByteArray> reasons;
        collectFinishReasons(R"({"choices":[{"index":0,"finish_reason":"length"},{"index":1,"finish_reason": "stop"}]})", reasons);
        collectFinishReasons(R"({"choices":[{"delta":{},"finish_reason":null}]})", reasons);
        collectFinishReasons(R"({"type":"message_delta","delta":{"stop_reason":"end_turn"}})", reasons);
        collectFinishReasons(R"({"choices":[{"finish_reason":"stop"}]})", reasons);
        QCOMPARE(reasons, (std::vector<QByteArray> {"length", "stop", "end_turn"}));
    }

    void serverAddressIsReadFromTheBaseUrl_data() const
    {
        QTest::addColumn<QByteArray>("url");
        QTest::addColumn<QByteArray>("host");
        QTest::addColumn<qint64>("port");
        QTest::newRow("https default") << QByteArray("https://api.openai.com/v1") << QByteArray("api.openai.com") << qint64 {443};
        QTest::newRow("http default") << QByteArray("http://gpu-1/v1") << QByteArray("gpu-1") << qint64 {80};
        QTest::newRow("explicit port") << QByteArray("http://127.0.0.1:8000/v1") << QByteArray("127.0.0.1") << qint64 {8000};
        QTest::newRow("ipv6") << QByteArray("http://[::1]:9000/v1") << QByteArray("::1") << qint64 {9000};
        QTest::newRow("ipv6 default") << QByteArray("https://[fe80::1]") << QByteArray("fe80::1") << qint64 {443};
        QTest::newRow("user info") << QByteArray("https://user:secret@host.example:8443/v1")
                                   << QByteArray("host.example") << qint64 {8443};
    }

    void serverAddressIsReadFromTheBaseUrl() const
    {
        QFETCH(QByteArray, url);
        QFETCH(QByteArray, host);
        QFETCH(qint64, port);
        const ServerAddress address = serverAddressOf(url);
        QCOMPARE(address.host, host);
        QCOMPARE(address.port, port);
    }

    void routeReasonFieldsAreReadBack() const
    {
        const auto fields = routeReasonFields("rule=long-prompts; route=chat strategy=session_hash scores=gpu-1/m:1,gpu-2/m:0.5 "
                                              "order=gpu-2/m>gpu-1/m filtered=gpu-3/m(circuit open) session=moved from gpu-3/m "
                                              "(filtered out); attempts=gpu-2/m:200");
        QCOMPARE(fields.strategy, QByteArray("session_hash"));
        QCOMPARE(fields.scores, QByteArray("gpu-1/m:1,gpu-2/m:0.5"));
        QCOMPARE(fields.order, QByteArray("gpu-2/m>gpu-1/m"));
        QCOMPARE(fields.session, QByteArray("moved from gpu-3/m (filtered out)"));
        QVERIFY(routeReasonFields("pd=aggregated").strategy.isEmpty());
    }
};

QTEST_APPLESS_MAIN(TestOtlpJson)
#include "testotlpjson.moc"
