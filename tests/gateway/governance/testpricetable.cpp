// Price look-up by upstream model name, and cost from usage (cached input included).

#include "governance/pricetable.h"

#include <QTest>

using namespace Gateway::Governance;

class TestPriceTable final : public QObject {
    Q_OBJECT

private slots:
    void exactThenVendorPrefixThenLongestFamily() const
    {
        PriceTable table {{{"gpt-4o", {2.5, 10, 1.25}}, {"gpt-4o-mini", {0.15, 0.6, 0.075}}, {"claude-3-5-haiku", {0.8, 4, 0.08}}}};
        QCOMPARE(table.find("gpt-4o")->inputPerMTok, 2.5);
        QCOMPARE(table.find("GPT-4o-mini")->inputPerMTok, 0.15);
        QCOMPARE(table.find("gpt-4o-mini-2024-07-18")->inputPerMTok, 0.15);
        QCOMPARE(table.find("gpt-4o-2024-08-06")->inputPerMTok, 2.5);
        QCOMPARE(table.find("openai/gpt-4o")->outputPerMTok, 10.0);
        QCOMPARE(table.find("claude-3-5-haiku@20241022")->outputPerMTok, 4.0);
        QVERIFY(!table.find("gpt-4"));
        QVERIFY(!table.find("gpt-4omni"));
    }

    void laterEntriesOverrideEarlierOnes() const
    {
        PriceTable table {{{"m", {1, 2, -1}}}};
        table.add({"M", {3, 4, -1}});
        QCOMPARE(table.entries().size(), std::size_t {1});
        QCOMPARE(table.find("m")->inputPerMTok, 3.0);
    }

    void costUsesTheCachedRateForCachedPromptTokens() const
    {
        const Price price {2.5, 10, 1.25};
        // 1000 prompt tokens of which 400 cached, 200 output:
        // 600 x 2.5 + 400 x 1.25 + 200 x 10 = 1500 + 500 + 2000 = 4000 $/M-tokens = $0.004.
        QCOMPARE(costNanos(price, {1000, 400, 200}), 4'000'000);
        // Without a cached rate, cached tokens cost as input.
        QCOMPARE(costNanos({2.5, 10, -1}, {1000, 400, 200}), 4'500'000);
        // Tiny requests stay exact in nano-dollars.
        QCOMPARE(costNanos({0.15, 0.6, -1}, {10, 0, 0}), 1500);
    }
};

QTEST_APPLESS_MAIN(TestPriceTable)
#include "testpricetable.moc"
