#include "proxy/sseeventsplitter.h"

#include <QList>
#include <QTest>

using Gateway::Proxy::parseSseEvent;
using Gateway::Proxy::singleSseData;
using Gateway::Proxy::SseEventSplitter;

namespace {

// Collects every event the splitter emits, as owned copies.
struct Collector {
    QList<QByteArray> events;

    SseEventSplitter::EventCallback callback()
    {
        return [this](QByteArrayView event) { events.append(event.toByteArray()); };
    }
};

QList<QByteArray> splitInPieces(const QByteArray &stream, const QList<qsizetype> &cuts, QByteArray *remainder = nullptr)
{
    SseEventSplitter splitter;
    Collector collector;
    qsizetype start = 0;
    for (const qsizetype cut : cuts) {
        splitter.feed(QByteArrayView(stream).sliced(start, cut - start), collector.callback());
        start = cut;
    }
    splitter.feed(QByteArrayView(stream).sliced(start), collector.callback());
    const QByteArray rest = splitter.takeRemainder();
    if (remainder != nullptr) {
        *remainder = rest;
    }
    return collector.events;
}

} // namespace

class TestSseEventSplitter final : public QObject {
    Q_OBJECT

private slots:
    void splitsOnBlankLines_data();
    void splitsOnBlankLines();
    void eventSplitAcrossTwoFeeds();
    void everySplitPointGivesTheSameEvents_data();
    void everySplitPointGivesTheSameEvents();
    void byteByByteFeeding();
    void remainderIsTheUnfinishedTail();
    void parseJoinsMultiLineData();
    void parseStripsOneLeadingSpace();
    void parseReadsEventName();
    void parseWithCarriageReturns();
    void singleDataIsAViewOfTheEvent();
    void singleDataDeclinesWhatNeedsJoining();
};

void TestSseEventSplitter::splitsOnBlankLines_data()
{
    QTest::addColumn<QByteArray>("stream");
    QTest::addColumn<QList<QByteArray>>("events");
    QTest::newRow("lf") << QByteArrayLiteral("data: a\n\ndata: b\n\n")
                        << QList<QByteArray> {QByteArrayLiteral("data: a\n\n"), QByteArrayLiteral("data: b\n\n")};
    QTest::newRow("crlf") << QByteArrayLiteral("data: a\r\n\r\nevent: e\r\ndata: b\r\n\r\n")
                          << QList<QByteArray> {QByteArrayLiteral("data: a\r\n\r\n"),
                                                QByteArrayLiteral("event: e\r\ndata: b\r\n\r\n")};
    QTest::newRow("cr") << QByteArrayLiteral("data: a\r\rdata: b\r\r")
                        << QList<QByteArray> {QByteArrayLiteral("data: a\r\r"), QByteArrayLiteral("data: b\r\r")};
    QTest::newRow("multi-line lf") << QByteArrayLiteral("event: x\ndata: 1\ndata: 2\n\n")
                                   << QList<QByteArray> {QByteArrayLiteral("event: x\ndata: 1\ndata: 2\n\n")};
    // A carriage return after "\n" lines: the blank line "\r\r" still ends the event.
    QTest::newRow("lf then cr") << QByteArrayLiteral("data: a\ndata: b\r\rdata: c\n\n")
                                << QList<QByteArray> {QByteArrayLiteral("data: a\ndata: b\r\r"), QByteArrayLiteral("data: c\n\n")};
    QTest::newRow("lone newlines between events") << QByteArrayLiteral("\ndata: a\n\n\n\ndata: b\n\n")
                                                  << QList<QByteArray> {QByteArrayLiteral("\ndata: a\n\n"), QByteArrayLiteral("\n\n"),
                                                                        QByteArrayLiteral("data: b\n\n")};
}

void TestSseEventSplitter::splitsOnBlankLines()
{
    QFETCH(QByteArray, stream);
    QFETCH(QList<QByteArray>, events);
    QByteArray remainder;
    QCOMPARE(splitInPieces(stream, {}, &remainder), events);
    QVERIFY(remainder.isEmpty());
}

void TestSseEventSplitter::eventSplitAcrossTwoFeeds()
{
    SseEventSplitter splitter;
    Collector collector;
    splitter.feed("data: {\"choices\":[{\"delta\":", collector.callback());
    QVERIFY(collector.events.isEmpty());
    splitter.feed("{\"content\":\"hi\"}}]}\n", collector.callback());
    QVERIFY(collector.events.isEmpty());
    splitter.feed("\ndata: [DONE]\n\n", collector.callback());
    QCOMPARE(collector.events,
             (QList<QByteArray> {QByteArrayLiteral("data: {\"choices\":[{\"delta\":{\"content\":\"hi\"}}]}\n\n"),
                                 QByteArrayLiteral("data: [DONE]\n\n")}));
    QVERIFY(splitter.takeRemainder().isEmpty());
}

void TestSseEventSplitter::everySplitPointGivesTheSameEvents_data()
{
    QTest::addColumn<QByteArray>("stream");
    QTest::addColumn<QList<QByteArray>>("expected");
    QTest::newRow("lf") << QByteArrayLiteral("event: message_start\ndata: {\"a\":1}\n\ndata: two\n\ndata: 3\ndata: 3b\n\n")
                        << QList<QByteArray> {QByteArrayLiteral("event: message_start\ndata: {\"a\":1}\n\n"),
                                              QByteArrayLiteral("data: two\n\n"),
                                              QByteArrayLiteral("data: 3\ndata: 3b\n\n")};
    QTest::newRow("crlf") << QByteArrayLiteral("data: one\r\n\r\nevent: e\r\ndata: two\r\n\r\ndata: three\r\n\r\n")
                          << QList<QByteArray> {QByteArrayLiteral("data: one\r\n\r\n"),
                                                QByteArrayLiteral("event: e\r\ndata: two\r\n\r\n"),
                                                QByteArrayLiteral("data: three\r\n\r\n")};
    QTest::newRow("cr") << QByteArrayLiteral("data: one\r\rdata: two\rdata: 2b\r\rdata: three\r\r")
                        << QList<QByteArray> {QByteArrayLiteral("data: one\r\r"), QByteArrayLiteral("data: two\rdata: 2b\r\r"),
                                              QByteArrayLiteral("data: three\r\r")};
}

void TestSseEventSplitter::everySplitPointGivesTheSameEvents()
{
    QFETCH(QByteArray, stream);
    QFETCH(QList<QByteArray>, expected);
    for (qsizetype cut = 0; cut <= stream.size(); ++cut) {
        QByteArray remainder;
        const QList<QByteArray> events = splitInPieces(stream, {cut}, &remainder);
        QVERIFY2(events == expected, qPrintable(QStringLiteral("single cut at %1").arg(cut)));
        QVERIFY(remainder.isEmpty());
    }
    // Two cuts: every pair of split points.
    for (qsizetype first = 0; first <= stream.size(); ++first) {
        for (qsizetype second = first; second <= stream.size(); ++second) {
            const QList<QByteArray> events = splitInPieces(stream, {first, second});
            QVERIFY2(events == expected, qPrintable(QStringLiteral("cuts at %1 and %2").arg(first).arg(second)));
        }
    }
}

void TestSseEventSplitter::byteByByteFeeding()
{
    const QByteArray stream = QByteArrayLiteral("data: a\r\n\r\ndata: b\n\ndata: c\r\rdata: tail");
    QList<qsizetype> cuts;
    for (qsizetype i = 1; i < stream.size(); ++i) {
        cuts.append(i);
    }
    QByteArray remainder;
    const QList<QByteArray> events = splitInPieces(stream, cuts, &remainder);
    QCOMPARE(events, (QList<QByteArray> {QByteArrayLiteral("data: a\r\n\r\n"), QByteArrayLiteral("data: b\n\n"),
                                         QByteArrayLiteral("data: c\r\r")}));
    QCOMPARE(remainder, QByteArrayLiteral("data: tail"));
}

void TestSseEventSplitter::remainderIsTheUnfinishedTail()
{
    SseEventSplitter splitter;
    Collector collector;
    splitter.feed("data: one\n\ndata: partial\n", collector.callback());
    QCOMPARE(collector.events, QList<QByteArray> {QByteArrayLiteral("data: one\n\n")});
    QCOMPARE(splitter.takeRemainder(), QByteArrayLiteral("data: partial\n"));
    // Taken: nothing is left, and the next feed starts afresh.
    QVERIFY(splitter.takeRemainder().isEmpty());
    splitter.feed("data: next\n\n", collector.callback());
    QCOMPARE(collector.events.size(), 2);
    QCOMPARE(collector.events.last(), QByteArrayLiteral("data: next\n\n"));
    QVERIFY(splitter.takeRemainder().isEmpty());
}

void TestSseEventSplitter::parseJoinsMultiLineData()
{
    const auto fields = parseSseEvent("data: {\"a\":\ndata:  1}\ndata:\n\n");
    QCOMPARE(fields.data, QByteArrayLiteral("{\"a\":\n 1}\n"));
    QVERIFY(fields.name.isEmpty());

    const auto single = parseSseEvent("data: [DONE]\n\n");
    QCOMPARE(single.data, QByteArrayLiteral("[DONE]"));
}

void TestSseEventSplitter::parseStripsOneLeadingSpace()
{
    QCOMPARE(parseSseEvent("data:no-space\n\n").data, QByteArrayLiteral("no-space"));
    QCOMPARE(parseSseEvent("data: one\n\n").data, QByteArrayLiteral("one"));
    QCOMPARE(parseSseEvent("data:   three\n\n").data, QByteArrayLiteral("  three"));
    // Comments and unknown fields are not data.
    QCOMPARE(parseSseEvent(": keep-alive\nid: 7\nretry: 10\ndata: x\n\n").data, QByteArrayLiteral("x"));
}

void TestSseEventSplitter::parseReadsEventName()
{
    const auto fields = parseSseEvent("event: content_block_delta\ndata: {\"type\":\"content_block_delta\"}\n\n");
    QCOMPARE(fields.name, QByteArrayLiteral("content_block_delta"));
    QCOMPARE(fields.data, QByteArrayLiteral("{\"type\":\"content_block_delta\"}"));

    QCOMPARE(parseSseEvent("event:ping\n\n").name, QByteArrayLiteral("ping"));
    QVERIFY(parseSseEvent("event:ping\n\n").data.isEmpty());
}

void TestSseEventSplitter::parseWithCarriageReturns()
{
    const auto crlf = parseSseEvent("event: e\r\ndata: a\r\ndata: b\r\n\r\n");
    QCOMPARE(crlf.name, QByteArrayLiteral("e"));
    QCOMPARE(crlf.data, QByteArrayLiteral("a\nb"));

    const auto cr = parseSseEvent("event: e\rdata: a\rdata: b\r\r");
    QCOMPARE(cr.name, QByteArrayLiteral("e"));
    QCOMPARE(cr.data, QByteArrayLiteral("a\nb"));
}

void TestSseEventSplitter::singleDataIsAViewOfTheEvent()
{
    const QByteArray event = QByteArrayLiteral("event: content_block_delta\ndata: {\"a\":1}\n\n");
    const auto data = singleSseData(event);
    QVERIFY(data.has_value());
    QCOMPARE(data->toByteArray(), QByteArrayLiteral("{\"a\":1}"));
    QCOMPARE(data->data(), event.constData() + event.indexOf('{')); // in place, not a copy
    QCOMPARE(singleSseData("data:[DONE]\n\n")->toByteArray(), QByteArrayLiteral("[DONE]"));
    QCOMPARE(singleSseData("data: x")->toByteArray(), QByteArrayLiteral("x")); // no line break at all
}

void TestSseEventSplitter::singleDataDeclinesWhatNeedsJoining()
{
    QVERIFY(!singleSseData("data: a\ndata: b\n\n").has_value());
    QVERIFY(!singleSseData("data: a\r\n\r\n").has_value());
    QVERIFY(!singleSseData("event: ping\n\n").has_value());
    QVERIFY(!singleSseData(": comment\n\n").has_value());
}

QTEST_APPLESS_MAIN(TestSseEventSplitter)
#include "testsseeventsplitter.moc"
