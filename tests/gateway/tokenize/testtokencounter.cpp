#include "referencecorpus.h"

#include "tokenize/bundledranks.h"
#include "tokenize/tokencounter.h"

#include <QTest>

#include <optional>

using Gateway::Tokenize::EncodingId;
using Gateway::Tokenize::loadBundledRanks;
using Gateway::Tokenize::TokenCount;
using Gateway::Tokenize::TokenCounter;
using Gateway::Tokenize::TokenEstimator;

class TestTokenCounter final : public QObject {
    Q_OBJECT

private:
    std::optional<TokenCounter> m_counter;
    std::vector<TokenizeTest::ReferenceCase> m_cases;

private slots:
    void initTestCase()
    {
        auto counter = TokenCounter::withBundledRanks();
        QVERIFY2(counter.hasValue(), qPrintable(counter.hasValue() ? QString() : counter.error()));
        m_counter.emplace(std::move(counter).value());
        m_cases = TokenizeTest::loadReferenceCases();
        QVERIFY(!m_cases.empty());
    }

    void openAiModelsAreExact()
    {
        for (const auto &c : m_cases) {
            const TokenCount o200k = m_counter->count(u"gpt-4o-mini", c.text);
            QVERIFY(o200k.exact);
            QCOMPARE(o200k.encoding, std::optional(EncodingId::O200kBase));
            QCOMPARE(o200k.tokens, qsizetype(c.o200k.size()));

            const TokenCount cl100k = m_counter->count(u"gpt-3.5-turbo", c.text);
            QVERIFY(cl100k.exact);
            QCOMPARE(cl100k.encoding, std::optional(EncodingId::Cl100kBase));
            QCOMPARE(cl100k.tokens, qsizetype(c.cl100k.size()));
        }
    }

    void encodeGivesIdsOnlyForExactModels()
    {
        const QByteArray text = QByteArrayLiteral("Hello world, don't HTTPServer 12345");
        const auto ids = m_counter->encode(u"o3", text);
        QVERIFY(ids.has_value());
        QCOMPARE(ids->size(), std::size_t(9));
        QCOMPARE(ids->front(), 13225u);
        QVERIFY(!m_counter->encode(u"claude-sonnet-4", text).has_value());
    }

    void otherModelsAreEstimated()
    {
        const QByteArray text = QByteArrayLiteral("The quick brown fox jumps over the lazy dog.");
        const TokenCount count = m_counter->count(u"claude-3-5-sonnet", text);
        QVERIFY(!count.exact);
        QVERIFY(!count.encoding.has_value());
        QCOMPARE(count.tokens, TokenEstimator().estimate(text));
        QVERIFY(count.tokens >= 8 && count.tokens <= 12); // o200k says 10
        QCOMPARE(m_counter->count(u"claude-3-5-sonnet", QByteArray()).tokens, 0);
    }

    void missingTableFallsBackToEstimate()
    {
        auto o200k = loadBundledRanks(EncodingId::O200kBase);
        QVERIFY(o200k.hasValue());
        const TokenCounter partial(nullptr, *o200k);
        QVERIFY(partial.count(u"gpt-4o", QByteArrayLiteral("hi there")).exact);
        QVERIFY(!partial.count(u"gpt-4", QByteArrayLiteral("hi there")).exact);
        QVERIFY(partial.encoding(EncodingId::Cl100kBase) == nullptr);
    }

    void copiesShareTables()
    {
        const TokenCounter copy = *m_counter;
        QCOMPARE(copy.encoding(EncodingId::O200kBase)->count(QByteArrayLiteral("hello world")), 2);
    }
};

QTEST_APPLESS_MAIN(TestTokenCounter)
#include "testtokencounter.moc"
