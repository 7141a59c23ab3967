#include "referencecorpus.h"

#include "tokenize/textfeatures.h"
#include "tokenize/tokenestimator.h"

#include <QTest>

#include <cmath>

using Gateway::Tokenize::TextFeatures;
using Gateway::Tokenize::TokenEstimator;

// The estimator against exact o200k_base counts of the corpus. The bands are the ones
// documented in docs/ARCHITECTURE.md ("Token counting").
class TestTokenEstimator final : public QObject {
    Q_OBJECT

private:
    static constexpr double kPerFileBand = 0.20; // |estimate / exact - 1| per corpus file
    static constexpr double kTotalBand = 0.05;   // over the whole corpus

private slots:
    void staysWithinBandOnCorpus()
    {
        const auto cases = TokenizeTest::loadReferenceCases();
        QVERIFY(!cases.empty());
        const TokenEstimator estimator;
        double exactTotal = 0;
        double estimateTotal = 0;
        for (const auto &c : cases) {
            if (!c.name.endsWith(QStringLiteral(".txt"))) {
                continue; // snippets are too short for a ratio to mean anything
            }
            const double exact = double(c.o200k.size());
            const double estimate = double(estimator.estimate(c.text));
            exactTotal += exact;
            estimateTotal += estimate;
            const double error = estimate / exact - 1;
            QVERIFY2(std::fabs(error) <= kPerFileBand,
                     qPrintable(QStringLiteral("%1: estimate %2, exact %3").arg(c.name).arg(estimate).arg(exact)));
        }
        QVERIFY(std::fabs(estimateTotal / exactTotal - 1) <= kTotalBand);
    }

    void featuresCountWhatTheySay()
    {
        // "Hello, world! 1234 <2 Han> <Cyrillic "Mir">\n  x"
        const TextFeatures f = TextFeatures::of(
            QByteArrayLiteral("Hello, world! 1234 \xe4\xb8\xad\xe6\x96\x87 \xd0\x9c\xd0\xb8\xd1\x80\n  x"));
        QCOMPARE(f.values[TextFeatures::LatinWords], 3.0); // Hello, world, x
        QCOMPARE(f.values[TextFeatures::LatinLetters], 11.0);
        QCOMPARE(f.values[TextFeatures::DigitGroups], 2.0); // 123|4
        QCOMPARE(f.values[TextFeatures::AsciiPunct], 2.0);
        QCOMPARE(f.values[TextFeatures::CjkChars], 2.0);
        QCOMPARE(f.values[TextFeatures::OtherWords], 1.0);
        QCOMPARE(f.values[TextFeatures::OtherLetters], 3.0);
        QCOMPARE(f.values[TextFeatures::Newlines], 1.0);
        QCOMPARE(f.values[TextFeatures::SpaceRuns], 1.0);
    }

    void emptyAndTinyTexts()
    {
        const TokenEstimator estimator;
        QCOMPARE(estimator.estimate(QByteArray()), 0);
        QCOMPARE(estimator.estimate(QByteArrayLiteral(" ")), 1);
        QVERIFY(estimator.estimate(QByteArrayLiteral("\xff\xfe")) >= 1); // bytes that are not UTF-8 still cost
    }

    void scaleAppliesAFactor()
    {
        const QByteArray text = QByteArrayLiteral("The quick brown fox jumps over the lazy dog.");
        const double base = TokenEstimator().estimate(TextFeatures::of(text));
        QCOMPARE(TokenEstimator(TokenEstimator::kCalibratedWeights, 1.2).estimate(TextFeatures::of(text)), base * 1.2);
    }
};

QTEST_APPLESS_MAIN(TestTokenEstimator)
#include "testtokenestimator.moc"
