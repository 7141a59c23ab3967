#include "proxy/kvtransferbody.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

using namespace Gateway::Proxy;

namespace {

QJsonObject objectOf(const QByteArray &json)
{
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson(json, &error);
    if (error.error != QJsonParseError::NoError || !document.isObject()) {
        qFatal("not a JSON object: %s", json.constData());
    }
    return document.object();
}

} // namespace

class TestKvTransferBody final : public QObject {
    Q_OBJECT

private slots:
    void prefillBodyAsksForOneTokenAndARemoteDecode()
    {
        const QByteArray client = "{\"model\": \"chat\", \"stream\": true, \"stream_options\": {\"include_usage\": true},\n            \"max_tokens\": 300, \"max_completion_tokens\": 300, \"min_tokens\": 20, \"min_completion_tokens\": 20, \"temperature\": 0.2, \"seed\": 9007199254740993,\n            \"messages\": [{\"role\": \"user\", \"content\": \"a \\\"quoted\\\" {brace} [bracket], comma\"}]}";
        const QByteArray body = prefillRequestBody(client, "meta-llama/Llama-3.1-8B");
        const QJsonObject object = objectOf(body);
        QCOMPARE(object.value(u"model").toString(), QStringLiteral("meta-llama/Llama-3.1-8B"));
        QCOMPARE(object.value(u"max_tokens").toInt(), 1);
        QCOMPARE(object.value(u"max_completion_tokens").toInt(), 1);
        QCOMPARE(object.value(u"stream").toBool(true), false);
        QVERIFY(!object.contains(u"stream_options"));
        QVERIFY(!object.contains(u"min_tokens"));
        QVERIFY(!object.contains(u"min_completion_tokens"));
        const QJsonObject kv = object.value(u"kv_transfer_params").toObject();
        QCOMPARE(kv.value(u"do_remote_decode").toBool(), true);
        QCOMPARE(kv.value(u"do_remote_prefill").toBool(true), false);
        for (const char *key : {"remote_engine_id", "remote_block_ids", "remote_host", "remote_port"}) {
            QVERIFY2(kv.contains(QLatin1String(key)) && kv.value(QLatin1String(key)).isNull(), key);
        }
        // Everything else is copied byte for byte (big integers included).
        QVERIFY(body.contains("\"seed\": 9007199254740993"));
        QVERIFY(body.contains("\"temperature\": 0.2"));
        QCOMPARE(object.value(u"messages").toArray().at(0).toObject().value(u"content").toString(),
                 QStringLiteral("a \"quoted\" {brace} [bracket], comma"));
        // Each key exactly once.
        QCOMPARE(body.count("\"max_tokens\""), 1);
        QCOMPARE(body.count("\"stream\""), 1);
    }

    void prefillBodyAddsNoMaxCompletionTokensUnlessGiven()
    {
        const QJsonObject object = objectOf(prefillRequestBody("{\"model\":\"m\",\"prompt\":\"hello\"}", "m"));
        QCOMPARE(object.value(u"max_tokens").toInt(), 1);
        QVERIFY(!object.contains(u"max_completion_tokens"));
        QCOMPARE(object.value(u"prompt").toString(), QStringLiteral("hello"));
    }

    void decodeBodyCarriesTheReturnedParameters()
    {
        const QByteArray params = "{\"do_remote_prefill\":true,\"remote_block_ids\":[1,2,3],\"remote_engine_id\":\"p1\"}";
        const QByteArray client = "{\"model\":\"m\",\"kv_transfer_params\":{\"stale\":1},\"stream\":true,\"messages\":[]}";
        const QByteArray body = withKvTransferParams(client, params);
        const QJsonObject object = objectOf(body);
        QCOMPARE(object.value(u"kv_transfer_params").toObject(), objectOf(params));
        QCOMPARE(object.value(u"stream").toBool(), true);
        QCOMPARE(body.count("kv_transfer_params"), 1);
    }

    void parametersAreReadFromThePrefillAnswer_data()
    {
        QTest::addColumn<QByteArray>("answer");
        QTest::addColumn<bool>("found");
        QTest::newRow("vLLM answer")
            << QByteArray("{\"id\":\"x\",\"kv_transfer_params\":{\"do_remote_prefill\":true,\"remote_block_ids\":[4,5],"
                          "\"remote_engine_id\":\"e\",\"remote_host\":\"10.0.0.1\",\"remote_port\":5600,\"tp_size\":1},\"choices\":[]}")
            << true;
        QTest::newRow("no member") << QByteArray("{\"id\":\"x\",\"choices\":[]}") << false;
        QTest::newRow("null") << QByteArray("{\"kv_transfer_params\":null}") << false;
        QTest::newRow("empty") << QByteArray("{\"kv_transfer_params\":{}}") << false;
        QTest::newRow("not JSON") << QByteArray("upstream error") << false;
    }

    void parametersAreReadFromThePrefillAnswer()
    {
        QFETCH(QByteArray, answer);
        QFETCH(bool, found);
        const auto params = kvTransferParamsOf(answer);
        QCOMPARE(params.has_value(), found);
        if (found) {
            const QJsonObject object = objectOf(*params);
            QCOMPARE(object.value(u"remote_block_ids").toArray().size(), 2);
            QCOMPARE(object.value(u"remote_port").toInt(), 5600);
            QVERIFY(params->contains("\"remote_block_ids\":[4,5]"));
        }
    }
};

QTEST_APPLESS_MAIN(TestKvTransferBody)
#include "testkvtransferbody.moc"
