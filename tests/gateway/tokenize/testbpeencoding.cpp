#include "referencecorpus.h"

#include "tokenize/bpeencoding.h"
#include "tokenize/bundledranks.h"

#include <QRandomGenerator>
#include <QTest>

#include <optional>

using Gateway::Tokenize::BpeEncoding;
using Gateway::Tokenize::EncodingId;
using Gateway::Tokenize::encodingName;
using Gateway::Tokenize::loadBundledRanks;

Q_DECLARE_METATYPE(EncodingId)

namespace {

QByteArray idList(const std::vector<std::uint32_t> &ids)
{
    QByteArray out;
    for (const std::uint32_t id : ids) {
        out += QByteArray::number(id) + ' ';
    }
    return out;
}

} // namespace

// Exactness against the reference tokenizer (tiktoken) on the corpus and edge-case
// snippets, for both encodings, plus robustness on bytes that are not UTF-8.
class TestBpeEncoding final : public QObject {
    Q_OBJECT

private:
    std::optional<BpeEncoding> m_cl100k;
    std::optional<BpeEncoding> m_o200k;
    std::vector<TokenizeTest::ReferenceCase> m_cases;

    const BpeEncoding &encoding(EncodingId id) const { return id == EncodingId::O200kBase ? *m_o200k : *m_cl100k; }

private slots:
    void initTestCase()
    {
        auto cl100k = loadBundledRanks(EncodingId::Cl100kBase);
        QVERIFY2(cl100k.hasValue(), qPrintable(cl100k.hasValue() ? QString() : cl100k.error()));
        auto o200k = loadBundledRanks(EncodingId::O200kBase);
        QVERIFY2(o200k.hasValue(), qPrintable(o200k.hasValue() ? QString() : o200k.error()));
        m_cl100k.emplace(EncodingId::Cl100kBase, *cl100k);
        m_o200k.emplace(EncodingId::O200kBase, *o200k);
        m_cases = TokenizeTest::loadReferenceCases();
        QVERIFY(m_cases.size() > 500);
    }

    void matchesReference_data()
    {
        QTest::addColumn<EncodingId>("id");
        QTest::addColumn<qsizetype>("index");
        for (const EncodingId id : {EncodingId::Cl100kBase, EncodingId::O200kBase}) {
            for (qsizetype i = 0; i < qsizetype(m_cases.size()); ++i) {
                const QString row = QString(encodingName(id)) + QStringLiteral(" ") + m_cases[std::size_t(i)].name;
                QTest::newRow(qPrintable(row)) << id << i;
            }
        }
    }

    void matchesReference()
    {
        QFETCH(EncodingId, id);
        QFETCH(qsizetype, index);
        const TokenizeTest::ReferenceCase &c = m_cases[std::size_t(index)];
        const auto &expected = id == EncodingId::O200kBase ? c.o200k : c.cl100k;
        const BpeEncoding &enc = encoding(id);

        const std::vector<std::uint32_t> ids = enc.encode(c.text);
        QCOMPARE(idList(ids), idList(expected));
        QCOMPARE(enc.count(c.text), qsizetype(expected.size()));
        QCOMPARE(enc.decode(ids), c.text);
    }

    void knownCounts()
    {
        // Spot values, also in expected.json, stated here so a reader sees the scale.
        const QByteArray hello = QByteArrayLiteral("Hello world, don't HTTPServer 12345");
        QCOMPARE(idList(m_o200k->encode(hello)), QByteArray("13225 2375 11 4128 21929 6444 220 7633 2548 "));
        QCOMPARE(m_cl100k->count(QByteArrayLiteral("hello world")), 2);
        QCOMPARE(m_o200k->count(QByteArray()), 0);
    }

    void invalidUtf8DoesNotBreakNeighbours()
    {
        // The reference cannot take these inputs (JS strings are UTF-16), so the contract
        // is ours: every byte survives the round trip, and an invalid byte splits like
        // punctuation, leaving the valid text around it tokenized as it would be alone.
        for (const EncodingId id : {EncodingId::Cl100kBase, EncodingId::O200kBase}) {
            const BpeEncoding &enc = encoding(id);
            const QByteArray text = QByteArrayLiteral("hello \xff world");
            const auto ids = enc.encode(text);
            const auto head = enc.encode(QByteArrayLiteral("hello"));
            const auto tail = enc.encode(QByteArrayLiteral(" world"));
            QVERIFY(ids.size() > head.size() + tail.size());
            QVERIFY(std::equal(head.begin(), head.end(), ids.begin()));
            QVERIFY(std::equal(tail.rbegin(), tail.rend(), ids.rbegin()));
            QCOMPARE(enc.decode(ids), text);
        }
    }

    void invalidUtf8RoundTrips_data()
    {
        QTest::addColumn<QByteArray>("text");
        QTest::newRow("lone continuation") << QByteArrayLiteral("\x80");
        QTest::newRow("truncated 3-byte at end") << QByteArrayLiteral("abc\xe4\xb8");
        QTest::newRow("truncated 4-byte in word") << QByteArrayLiteral("ab\xf0\x9f\x98" "cd");
        QTest::newRow("overlong slash") << QByteArrayLiteral("a\xc0\xaf b");
        QTest::newRow("surrogate") << QByteArrayLiteral("x\xed\xa0\x80y");
        QTest::newRow("above U+10FFFF") << QByteArrayLiteral("\xf4\x90\x80\x80");
        QTest::newRow("0xFE 0xFF") << QByteArrayLiteral("\xfe\xff\xfe\xff");
        QTest::newRow("NUL bytes") << QByteArray("a\0b\0\0c", 6);
        QTest::newRow("apostrophe then invalid") << QByteArrayLiteral("'\xff's");
        QTest::newRow("space then invalid") << QByteArrayLiteral("  \xc3");
    }

    void invalidUtf8RoundTrips()
    {
        QFETCH(QByteArray, text);
        for (const EncodingId id : {EncodingId::Cl100kBase, EncodingId::O200kBase}) {
            const BpeEncoding &enc = encoding(id);
            const auto ids = enc.encode(text);
            QCOMPARE(enc.decode(ids), text);
            QCOMPARE(enc.count(text), qsizetype(ids.size()));
        }
    }

    void randomBytesRoundTrip()
    {
        // Deterministic garbage, mixed with ASCII so pieces of every kind and length occur
        // (including pieces longer than the small-merge limit).
        QRandomGenerator rng(20240610);
        for (int round = 0; round < 200; ++round) {
            QByteArray text(qsizetype(rng.bounded(1, 400)), Qt::Uninitialized);
            for (char &b : text) {
                const quint32 r = rng.bounded(256);
                b = char(r < 128 ? (r % 2 ? 'a' + r % 26 : ' ') : r);
            }
            for (const EncodingId id : {EncodingId::Cl100kBase, EncodingId::O200kBase}) {
                const BpeEncoding &enc = encoding(id);
                const auto ids = enc.encode(text);
                QCOMPARE(enc.decode(ids), text);
                QCOMPARE(enc.count(text), qsizetype(ids.size()));
            }
        }
    }

    void longPiecesUseTheSameMerge()
    {
        // One piece far above the small-merge limit: the heap merge must agree with
        // tokenizing the same bytes in pieces the reference vouches for.
        const QByteArray word = QByteArray("abcdefghij").repeated(200);
        for (const EncodingId id : {EncodingId::Cl100kBase, EncodingId::O200kBase}) {
            const BpeEncoding &enc = encoding(id);
            const auto ids = enc.encode(word);
            QCOMPARE(enc.decode(ids), word);
            QVERIFY(ids.size() < std::size_t(word.size() / 2));
        }
    }
};

QTEST_APPLESS_MAIN(TestBpeEncoding)
#include "testbpeencoding.moc"
