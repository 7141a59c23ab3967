#include "admission/priorityclass.h"

#include <QTest>

#include <limits>

using namespace Gateway::Admission;

class TestPriorityClass final : public QObject {
    Q_OBJECT

private slots:
    void parsesEveryClassIgnoringCaseAndSpaces_data();
    void parsesEveryClassIgnoringCaseAndSpaces();
    void unknownValueNamesTheHeader();
    void emptyValueIsAnError();
    void errorNamesTheGivenField();
    void hostileValueIsQuotedSafely();
    void namesRoundTrip();
    void classesAreServedInPriorityOrder();
    void defaultObjectives();
    void settingsValidation();
};

void TestPriorityClass::parsesEveryClassIgnoringCaseAndSpaces_data()
{
    QTest::addColumn<QByteArray>("value");
    QTest::addColumn<PriorityClass>("expected");
    QTest::newRow("interactive") << QByteArray("interactive") << PriorityClass::Interactive;
    QTest::newRow("Interactive") << QByteArray("Interactive") << PriorityClass::Interactive;
    QTest::newRow("STANDARD") << QByteArray("STANDARD") << PriorityClass::Standard;
    QTest::newRow("batch padded") << QByteArray("  batch\t") << PriorityClass::Batch;
    QTest::newRow("bAtCh") << QByteArray("bAtCh") << PriorityClass::Batch;
}

void TestPriorityClass::parsesEveryClassIgnoringCaseAndSpaces()
{
    QFETCH(QByteArray, value);
    QFETCH(PriorityClass, expected);
    const auto parsed = parsePriorityClass(value);
    QVERIFY(parsed.hasValue());
    QCOMPARE(*parsed, expected);
}

void TestPriorityClass::unknownValueNamesTheHeader()
{
    const auto parsed = parsePriorityClass("urgent");
    QVERIFY(!parsed.hasValue());
    QCOMPARE(parsed.error().message,
             QStringLiteral("x-priority must be interactive, standard or batch, not 'urgent'"));
    // Near misses are errors too, not prefixes.
    QVERIFY(!parsePriorityClass("batches").hasValue());
    QVERIFY(!parsePriorityClass("inter active").hasValue());
}

void TestPriorityClass::emptyValueIsAnError()
{
    const auto parsed = parsePriorityClass("   ");
    QVERIFY(!parsed.hasValue());
    QCOMPARE(parsed.error().message, QStringLiteral("x-priority is empty; expected interactive, standard or batch"));
}

void TestPriorityClass::errorNamesTheGivenField()
{
    const auto parsed = parsePriorityClass("high", QLatin1String("virtual_keys.team-a.priority"));
    QVERIFY(!parsed.hasValue());
    QVERIFY(parsed.error().message.startsWith(QStringLiteral("virtual_keys.team-a.priority must be")));
}

void TestPriorityClass::hostileValueIsQuotedSafely()
{
    const QByteArray hostile = QByteArray("a\r\nb\x01\xff") + QByteArray(200, 'x');
    const auto parsed = parsePriorityClass(hostile);
    QVERIFY(!parsed.hasValue());
    const QString message = parsed.error().message;
    QVERIFY(message.contains(QStringLiteral("'a??b??xxx")));
    QVERIFY(message.endsWith(QStringLiteral("...'")));
    QVERIFY(message.size() < 120);
    for (const QChar c : message) {
        QVERIFY(c.unicode() >= 0x20 && c.unicode() < 0x7f);
    }
}

void TestPriorityClass::namesRoundTrip()
{
    for (const PriorityClass priority : PRIORITY_CLASSES) {
        const QLatin1String name = priorityClassName(priority);
        const auto parsed = parsePriorityClass(QByteArrayView(name.data(), name.size()));
        QVERIFY(parsed.hasValue());
        QCOMPARE(*parsed, priority);
    }
    QCOMPARE(priorityClassName(PriorityClass::Interactive), QLatin1String("interactive"));
    QCOMPARE(DEFAULT_PRIORITY_CLASS, PriorityClass::Standard);
}

void TestPriorityClass::classesAreServedInPriorityOrder()
{
    QCOMPARE(PRIORITY_CLASSES[0], PriorityClass::Interactive);
    QCOMPARE(PRIORITY_CLASSES[1], PriorityClass::Standard);
    QCOMPARE(PRIORITY_CLASSES[2], PriorityClass::Batch);
    for (std::size_t i = 0; i < PRIORITY_CLASS_COUNT; ++i) {
        QCOMPARE(classIndex(PRIORITY_CLASSES[i]), i);
    }
}

void TestPriorityClass::defaultObjectives()
{
    const ClassSettingsTable table = defaultClassSettingsTable();
    QCOMPARE(table[classIndex(PriorityClass::Interactive)].ttftObjectiveMs, qint64 {2000});
    QCOMPARE(table[classIndex(PriorityClass::Standard)].ttftObjectiveMs, qint64 {10000});
    QCOMPARE(table[classIndex(PriorityClass::Batch)].ttftObjectiveMs, qint64 {60000});
    for (const PriorityClass priority : PRIORITY_CLASSES) {
        const ClassSettings &settings = table[classIndex(priority)];
        QVERIFY(!classSettingsError(priority, settings));
        // The bound is a safety net behind the prediction, never tighter than the objective.
        QVERIFY(settings.maxQueueWaitMs >= settings.ttftObjectiveMs);
        QCOMPARE(settings.weight, 1.0);
    }
    // Stricter classes promise faster first tokens.
    QVERIFY(table[0].ttftObjectiveMs < table[1].ttftObjectiveMs);
    QVERIFY(table[1].ttftObjectiveMs < table[2].ttftObjectiveMs);
}

void TestPriorityClass::settingsValidation()
{
    ClassSettings settings = defaultClassSettings(PriorityClass::Batch);
    settings.weight = 0.0;
    QCOMPARE(classSettingsError(PriorityClass::Batch, settings).value_or(QString()), QStringLiteral("batch.weight must be a finite number > 0"));
    settings.weight = std::numeric_limits<double>::quiet_NaN();
    QVERIFY(classSettingsError(PriorityClass::Batch, settings));
    settings = defaultClassSettings(PriorityClass::Interactive);
    settings.ttftObjectiveMs = 0;
    QCOMPARE(classSettingsError(PriorityClass::Interactive, settings).value_or(QString()),
             QStringLiteral("interactive.ttft_objective_ms must be > 0"));
    settings = defaultClassSettings(PriorityClass::Standard);
    settings.maxQueueWaitMs = -5;
    QCOMPARE(classSettingsError(PriorityClass::Standard, settings).value_or(QString()),
             QStringLiteral("standard.max_queue_wait_ms must be > 0"));
}

QTEST_APPLESS_MAIN(TestPriorityClass)
#include "testpriorityclass.moc"
