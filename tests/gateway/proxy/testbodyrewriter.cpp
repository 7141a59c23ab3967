#include "proxy/bodyrewriter.h"
#include "proxy/requestinspector.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

using Gateway::Proxy::InspectedRequest;
using Gateway::Proxy::RequestInspector;
using Gateway::Proxy::rewriteBody;
using Gateway::Runtime::Endpoint;

namespace {

const QByteArray MESSAGES = QByteArrayLiteral("\"messages\":[{\"role\":\"user\",\"content\":\"Hi \\\"there\\\"\"}]");

InspectedRequest inspect(const QByteArray &body)
{
    RequestInspector inspector;
    auto result = inspector.inspect(Endpoint::ChatCompletions, body);
    if (!result.hasValue()) {
        qFatal("test body rejected: %s", result.error().message.constData());
    }
    return result.value();
}

QJsonObject parsedObject(const QByteArray &json)
{
    QJsonParseError error {};
    const QJsonDocument document = QJsonDocument::fromJson(json, &error);
    if (error.error != QJsonParseError::NoError || !document.isObject()) {
        return {};
    }
    return document.object();
}

} // namespace

class TestBodyRewriter final : public QObject {
    Q_OBJECT

private slots:
    void modelIsReplacedAndTheRestIsByteIdentical();
    void sameModelReturnsTheOriginalBytes();
    void includeUsageAlreadyTrueIsLeftAlone();
    void includeUsageIsInjectedWhenAbsent();
    void includeUsageIsInjectedWhenStreamOptionsIsNull();
    void existingStreamOptionsAreRebuilt();
    void bothEditsWithModelFirst();
    void bothEditsWithModelLast();
    void modelNeedingEscapes();
};

void TestBodyRewriter::modelIsReplacedAndTheRestIsByteIdentical()
{
    const QByteArray body = "{ \"temperature\" : 0.70, \"model\" : \"chat\" ,\n " + MESSAGES + ", \"n\":1 }";
    const InspectedRequest inspected = inspect(body);
    const QByteArray rewritten = rewriteBody(body, inspected, QByteArrayLiteral("llama-3.1-8b"), false);

    QByteArray expected = body;
    expected.replace(QByteArrayLiteral("\"chat\""), QByteArrayLiteral("\"llama-3.1-8b\""));
    QCOMPARE(rewritten, expected);
    // The original is untouched.
    QVERIFY(body.contains("\"chat\""));
}

void TestBodyRewriter::sameModelReturnsTheOriginalBytes()
{
    const QByteArray body = "{\"model\":\"chat\"," + MESSAGES + '}';
    const InspectedRequest inspected = inspect(body);
    const QByteArray rewritten = rewriteBody(body, inspected, QByteArrayLiteral("chat"), false);
    QCOMPARE(rewritten, body);
    QCOMPARE(rewritten.constData(), body.constData()); // shared, not copied
}

void TestBodyRewriter::includeUsageAlreadyTrueIsLeftAlone()
{
    const QByteArray body =
        "{\"model\":\"chat\"," + MESSAGES + ",\"stream\":true,\"stream_options\":{\"include_usage\":true}}";
    const InspectedRequest inspected = inspect(body);
    const QByteArray rewritten = rewriteBody(body, inspected, QByteArrayLiteral("chat"), true);
    QCOMPARE(rewritten, body);
    QCOMPARE(rewritten.constData(), body.constData());
}

void TestBodyRewriter::includeUsageIsInjectedWhenAbsent()
{
    const QByteArray body = "{\"model\":\"chat\"," + MESSAGES + ",\"stream\":true,\"max_tokens\":32}";
    const InspectedRequest inspected = inspect(body);
    const QByteArray rewritten = rewriteBody(body, inspected, QByteArrayLiteral("chat"), true);

    QCOMPARE(rewritten, "{\"stream_options\":{\"include_usage\":true}," + body.mid(1));
    const QJsonObject object = parsedObject(rewritten);
    QVERIFY2(!object.isEmpty(), rewritten.constData());
    QCOMPARE(object.size(), 5);
    QCOMPARE(object.value(QStringLiteral("stream_options")).toObject().value(QStringLiteral("include_usage")), QJsonValue(true));
    QCOMPARE(object.value(QStringLiteral("model")).toString(), QStringLiteral("chat"));
    QCOMPARE(object.value(QStringLiteral("stream")), QJsonValue(true));
    QCOMPARE(object.value(QStringLiteral("max_tokens")).toInt(), 32);
    const QJsonArray messages = object.value(QStringLiteral("messages")).toArray();
    QCOMPARE(messages.size(), 1);
    QCOMPARE(messages[0].toObject().value(QStringLiteral("content")).toString(), QStringLiteral("Hi \"there\""));

    // Leading whitespace before the object is kept, the member goes inside it.
    const QByteArray padded = "\n  " + body;
    const QByteArray paddedRewritten = rewriteBody(padded, inspect(padded), QByteArrayLiteral("chat"), true);
    QCOMPARE(paddedRewritten, "\n  {\"stream_options\":{\"include_usage\":true}," + body.mid(1));
}

void TestBodyRewriter::includeUsageIsInjectedWhenStreamOptionsIsNull()
{
    // "stream_options": null means "none"; the rewrite must not leave the null in place
    // next to an injected object: with duplicate keys most JSON parsers keep the last
    // one, so the upstream would see null and never report usage.
    const QByteArray body = "{\"model\":\"chat\"," + MESSAGES + ",\"stream\":true,\"stream_options\":null}";
    const InspectedRequest inspected = inspect(body);
    QVERIFY(!inspected.includeUsage);
    const QByteArray rewritten = rewriteBody(body, inspected, QByteArrayLiteral("chat"), true);

    QCOMPARE(rewritten.count("\"stream_options\""), qsizetype {1});
    const QJsonObject object = parsedObject(rewritten);
    QVERIFY2(!object.isEmpty(), rewritten.constData());
    QCOMPARE(object.value(QStringLiteral("stream_options")).toObject().value(QStringLiteral("include_usage")), QJsonValue(true));
}

void TestBodyRewriter::existingStreamOptionsAreRebuilt()
{
    const QByteArray body = "{\"model\":\"chat\"," + MESSAGES +
                            ",\"stream\":true,\"stream_options\": {\"include_usage\":false,\"continuous_usage_stats\":true} ,\"n\":2}";
    const InspectedRequest inspected = inspect(body);
    const QByteArray rewritten = rewriteBody(body, inspected, QByteArrayLiteral("chat"), true);

    QCOMPARE(rewritten, "{\"model\":\"chat\"," + MESSAGES +
                            ",\"stream\":true,\"stream_options\": {\"include_usage\":true,\"continuous_usage_stats\":true} ,\"n\":2}");
    const QJsonObject options = parsedObject(rewritten).value(QStringLiteral("stream_options")).toObject();
    QCOMPARE(options.size(), 2);
    QCOMPARE(options.value(QStringLiteral("include_usage")), QJsonValue(true));
    QCOMPARE(options.value(QStringLiteral("continuous_usage_stats")), QJsonValue(true));

    // Without other members, only include_usage remains.
    const QByteArray plain = "{\"model\":\"chat\"," + MESSAGES + ",\"stream_options\":{}}";
    QCOMPARE(rewriteBody(plain, inspect(plain), QByteArrayLiteral("chat"), true),
             "{\"model\":\"chat\"," + MESSAGES + ",\"stream_options\":{\"include_usage\":true}}");
}

void TestBodyRewriter::bothEditsWithModelFirst()
{
    const QByteArray body =
        "{\"model\":\"chat\"," + MESSAGES + ",\"stream\":true,\"stream_options\":{\"include_usage\":false,\"x\":1}}";
    const QByteArray rewritten = rewriteBody(body, inspect(body), QByteArrayLiteral("gpt-4o-mini"), true);
    QCOMPARE(rewritten, "{\"model\":\"gpt-4o-mini\"," + MESSAGES +
                            ",\"stream\":true,\"stream_options\":{\"include_usage\":true,\"x\":1}}");

    // And with injection instead of a rebuild.
    const QByteArray bare = "{\"model\":\"chat\"," + MESSAGES + ",\"stream\":true}";
    const QByteArray injected = rewriteBody(bare, inspect(bare), QByteArrayLiteral("gpt-4o-mini"), true);
    QCOMPARE(injected, "{\"stream_options\":{\"include_usage\":true},\"model\":\"gpt-4o-mini\"," + MESSAGES +
                           ",\"stream\":true}");
    QVERIFY(!parsedObject(injected).isEmpty());
}

void TestBodyRewriter::bothEditsWithModelLast()
{
    const QByteArray body = "{\"stream\":true,\"stream_options\":{\"continuous_usage_stats\":false}," + MESSAGES +
                            ",\"model\":\"chat\"}";
    const QByteArray rewritten = rewriteBody(body, inspect(body), QByteArrayLiteral("claude-3-5-haiku"), true);
    QCOMPARE(rewritten, "{\"stream\":true,\"stream_options\":{\"include_usage\":true,\"continuous_usage_stats\":false}," +
                            MESSAGES + ",\"model\":\"claude-3-5-haiku\"}");
    const QJsonObject object = parsedObject(rewritten);
    QCOMPARE(object.value(QStringLiteral("model")).toString(), QStringLiteral("claude-3-5-haiku"));
    QCOMPARE(object.value(QStringLiteral("stream_options")).toObject().value(QStringLiteral("include_usage")), QJsonValue(true));
}

void TestBodyRewriter::modelNeedingEscapes()
{
    const QByteArray body = "{\"model\":\"chat\"," + MESSAGES + '}';
    const QByteArray upstream = QByteArray("org/\"quoted\"\\name\n\x01\xc3\xa9");
    const QByteArray rewritten = rewriteBody(body, inspect(body), upstream, false);
    QCOMPARE(rewritten, "{\"model\":\"org/\\\"quoted\\\"\\\\name\\n\\u0001\xc3\xa9\"," + MESSAGES + '}');

    // Round trip: the inspector reads back exactly the upstream name.
    const InspectedRequest again = inspect(rewritten);
    QCOMPARE(again.model, upstream);
    QCOMPARE(parsedObject(rewritten).value(QStringLiteral("model")).toString(), QString::fromUtf8(upstream));

    // An escaped client model compared against the unescaped upstream name.
    const QByteArray escaped = "{\"model\":\"a\\/b\"," + MESSAGES + '}';
    const QByteArray unchanged = rewriteBody(escaped, inspect(escaped), QByteArrayLiteral("a/b"), false);
    QCOMPARE(unchanged, escaped);
}

QTEST_APPLESS_MAIN(TestBodyRewriter)
#include "testbodyrewriter.moc"
