#include "tokenize/cl100ksplitter.h"
#include "tokenize/o200ksplitter.h"

#include <QTest>

using Gateway::Tokenize::cl100kPieceEnd;
using Gateway::Tokenize::o200kPieceEnd;

namespace {

// Pieces joined with '|', so a failure shows where the scanner cut.
QByteArray split(QByteArrayView text, qsizetype (*pieceEnd)(QByteArrayView, qsizetype))
{
    QByteArray out;
    for (qsizetype pos = 0; pos < text.size();) {
        const qsizetype end = pieceEnd(text, pos);
        if (end <= pos || end > text.size()) {
            return QByteArrayLiteral("<no progress>");
        }
        if (!out.isEmpty()) {
            out += '|';
        }
        out += text.sliced(pos, end - pos);
        pos = end;
    }
    return out;
}

} // namespace

// The pre-tokenizers on cases worked out by hand from the published split patterns; the
// end-to-end exactness against the reference is in testbpeencoding.
class TestSplitters final : public QObject {
    Q_OBJECT

private slots:
    void cl100k_data()
    {
        QTest::addColumn<QByteArray>("text");
        QTest::addColumn<QByteArray>("pieces");
        QTest::newRow("words") << QByteArrayLiteral("Hello world") << QByteArrayLiteral("Hello| world");
        QTest::newRow("contraction") << QByteArrayLiteral("don't") << QByteArrayLiteral("don|'t");
        QTest::newRow("contraction upper") << QByteArrayLiteral("DON'T") << QByteArrayLiteral("DON|'T");
        QTest::newRow("contraction prefix") << QByteArrayLiteral("'sup") << QByteArrayLiteral("'s|up");
        QTest::newRow("digits by three") << QByteArrayLiteral("1234567") << QByteArrayLiteral("123|456|7");
        QTest::newRow("space digit") << QByteArrayLiteral("a 12") << QByteArrayLiteral("a| |12");
        QTest::newRow("punct prefix") << QByteArrayLiteral("(foo)") << QByteArrayLiteral("(foo|)");
        QTest::newRow("space punct newline") << QByteArrayLiteral("a ...\n\nb") << QByteArrayLiteral("a| ...\n\n|b");
        QTest::newRow("spaces before word") << QByteArrayLiteral("a   b") << QByteArrayLiteral("a|  | b");
        QTest::newRow("trailing spaces") << QByteArrayLiteral("a   ") << QByteArrayLiteral("a|   ");
        QTest::newRow("spaces then newline") << QByteArrayLiteral("a  \n  b") << QByteArrayLiteral("a|  \n| | b");
        QTest::newRow("camel case") << QByteArrayLiteral("HTTPServer") << QByteArrayLiteral("HTTPServer");
        QTest::newRow("slash tail") << QByteArrayLiteral("}\n/") << QByteArrayLiteral("}\n|/");
        QTest::newRow("mark breaks letters") << QByteArrayLiteral("e\xcc\x81x") << QByteArrayLiteral("e|\xcc\x81x");
        QTest::newRow("invalid byte as punct") << QByteArrayLiteral("a\xff b") << QByteArrayLiteral("a|\xff| b");
    }

    void cl100k()
    {
        QFETCH(QByteArray, text);
        QFETCH(QByteArray, pieces);
        QCOMPARE(split(text, &cl100kPieceEnd), pieces);
    }

    void o200k_data()
    {
        QTest::addColumn<QByteArray>("text");
        QTest::addColumn<QByteArray>("pieces");
        QTest::newRow("words") << QByteArrayLiteral("Hello world") << QByteArrayLiteral("Hello| world");
        QTest::newRow("contraction joins") << QByteArrayLiteral("don't") << QByteArrayLiteral("don't");
        QTest::newRow("camel case") << QByteArrayLiteral("helloWorld") << QByteArrayLiteral("hello|World");
        QTest::newRow("acronym then word") << QByteArrayLiteral("HTTPServer") << QByteArrayLiteral("HTTPServer");
        QTest::newRow("all caps") << QByteArrayLiteral("HELLO world") << QByteArrayLiteral("HELLO| world");
        QTest::newRow("slash tail") << QByteArrayLiteral("}\n/") << QByteArrayLiteral("}\n/");
        QTest::newRow("digits by three") << QByteArrayLiteral("1234567") << QByteArrayLiteral("123|456|7");
        QTest::newRow("mark joins word") << QByteArrayLiteral("e\xcc\x81x") << QByteArrayLiteral("e\xcc\x81x");
        QTest::newRow("han run") << QByteArrayLiteral("\xe4\xb8\xad\xe6\x96\x87!")
                                 << QByteArrayLiteral("\xe4\xb8\xad\xe6\x96\x87|!");
        QTest::newRow("spaces before word") << QByteArrayLiteral("a   b") << QByteArrayLiteral("a|  | b");
        QTest::newRow("invalid byte as punct") << QByteArrayLiteral("a\xff b") << QByteArrayLiteral("a|\xff| b");
    }

    void o200k()
    {
        QFETCH(QByteArray, text);
        QFETCH(QByteArray, pieces);
        QCOMPARE(split(text, &o200kPieceEnd), pieces);
    }
};

QTEST_APPLESS_MAIN(TestSplitters)
#include "testsplitters.moc"
