#include "tokenize/bundledranks.h"
#include "tokenize/tiktokenfile.h"

#include <QTest>

using Gateway::Tokenize::EncodingId;
using Gateway::Tokenize::loadBundledRanks;
using Gateway::Tokenize::parseTiktokenFile;
using Gateway::Tokenize::RankTable;

class TestRankTable final : public QObject {
    Q_OBJECT

private slots:
    void parsesAndLooksUp()
    {
        // "a" 0, "b" 1, "ab" 2, "\xff" 3
        const auto table = parseTiktokenFile(QByteArrayLiteral("YQ== 0\nYg== 1\nYWI= 2\n/w== 3\n"));
        QVERIFY(table.hasValue());
        const RankTable &t = **table;
        QCOMPARE(t.size(), 4u);
        QCOMPARE(t.rank("ab", 2), 2u);
        QCOMPARE(t.rank("\xff", 1), 3u);
        QCOMPARE(t.rank("ba", 2), RankTable::kNoRank);
        QCOMPARE(t.rank("abc", 3), RankTable::kNoRank);
        QCOMPARE(t.bytes(1), QByteArrayView("b"));
        QVERIFY(t.bytes(4).isEmpty());
    }

    void rejectsMalformedFiles_data()
    {
        QTest::addColumn<QByteArray>("text");
        QTest::newRow("empty") << QByteArray();
        QTest::newRow("no rank") << QByteArrayLiteral("YQ==\n");
        QTest::newRow("bad rank") << QByteArrayLiteral("YQ== x\n");
        QTest::newRow("rank gap") << QByteArrayLiteral("YQ== 0\nYg== 2\n");
        QTest::newRow("bad base64") << QByteArrayLiteral("Y!== 0\n");
        QTest::newRow("duplicate token") << QByteArrayLiteral("YQ== 0\nYQ== 1\n");
        QTest::newRow("empty token") << QByteArrayLiteral("YQ== 0\n 1\n");
    }

    void rejectsMalformedFiles()
    {
        QFETCH(QByteArray, text);
        QVERIFY(!parseTiktokenFile(text).hasValue());
    }

    void bundledTablesAreComplete()
    {
        // Sizes of the published files; every single byte is a token, so any input encodes.
        const auto cl100k = loadBundledRanks(EncodingId::Cl100kBase);
        QVERIFY(cl100k.hasValue());
        QCOMPARE((*cl100k)->size(), 100256u);
        const auto o200k = loadBundledRanks(EncodingId::O200kBase);
        QVERIFY(o200k.hasValue());
        QCOMPARE((*o200k)->size(), 199998u);
        for (int b = 0; b < 256; ++b) {
            const char byte = char(b);
            QVERIFY((*cl100k)->rank(&byte, 1) != RankTable::kNoRank);
            QVERIFY((*o200k)->rank(&byte, 1) != RankTable::kNoRank);
        }
        QCOMPARE((*o200k)->rank("Hello", 5), 13225u);
        QCOMPARE((*cl100k)->bytes(15339), QByteArrayView("hello"));
    }
};

QTEST_APPLESS_MAIN(TestRankTable)
#include "testranktable.moc"
