#include "tokenize/modelencoding.h"

#include <QTest>

using Gateway::Tokenize::EncodingId;
using Gateway::Tokenize::encodingForModel;

Q_DECLARE_METATYPE(std::optional<EncodingId>)

class TestModelEncoding final : public QObject {
    Q_OBJECT

private slots:
    void mapsModelNames_data()
    {
        QTest::addColumn<QString>("model");
        QTest::addColumn<std::optional<EncodingId>>("expected");
        const std::optional<EncodingId> o200k = EncodingId::O200kBase;
        const std::optional<EncodingId> cl100k = EncodingId::Cl100kBase;
        const std::optional<EncodingId> none;
        const auto row = [](const char *model, std::optional<EncodingId> id) {
            QTest::newRow(model) << QString::fromLatin1(model) << id;
        };
        row("gpt-4o", o200k);
        row("gpt-4o-mini", o200k);
        row("gpt-4o-2024-08-06", o200k);
        row("chatgpt-4o-latest", o200k);
        row("gpt-4.1", o200k);
        row("gpt-4.1-nano", o200k);
        row("gpt-4.5-preview", o200k);
        row("gpt-5", o200k);
        row("gpt-5-mini", o200k);
        row("o1", o200k);
        row("o1-preview", o200k);
        row("o3-mini", o200k);
        row("o4-mini-2025-04-16", o200k);
        row("gpt-oss-120b", o200k);
        row("GPT-4O", o200k);
        row("openai/gpt-4o-mini", o200k);
        row("ft:gpt-4o-mini:acme::abc123", o200k);
        row("gpt-4", cl100k);
        row("gpt-4-0613", cl100k);
        row("gpt-4-turbo", cl100k);
        row("gpt-4-32k", cl100k);
        row("gpt-3.5-turbo", cl100k);
        row("gpt-3.5-turbo-16k", cl100k);
        row("gpt-35-turbo", cl100k);
        row("azure/gpt-35-turbo", cl100k);
        row("text-embedding-3-small", cl100k);
        row("text-embedding-3-large", cl100k);
        row("text-embedding-ada-002", cl100k);
        row("ft:gpt-3.5-turbo-0613:org::id", cl100k);
        row("claude-3-5-sonnet-20241022", none);
        row("gemini-1.5-pro", none);
        row("meta-llama/Llama-3.1-8B-Instruct", none);
        row("mistral-large", none);
        row("o10", none);
        row("gpt-40", none);
        row("", none);
    }

    void mapsModelNames()
    {
        QFETCH(QString, model);
        QFETCH(std::optional<EncodingId>, expected);
        QCOMPARE(encodingForModel(model), expected);
    }
};

QTEST_APPLESS_MAIN(TestModelEncoding)
#include "testmodelencoding.moc"
