#include "routing/prefillspeed.h"

#include <QTest>

using Gateway::Routing::PrefillSpeed;
using Gateway::Routing::PrefillTicket;

class TestPrefillSpeed final : public QObject {
    Q_OBJECT

private slots:
    void learnsFromPromptsSentAlone();
    void smoothsLaterSamples();
};

void TestPrefillSpeed::learnsFromPromptsSentAlone()
{
    PrefillSpeed speed;
    QCOMPARE(speed.usPerToken(), 0.0);
    // Sent while another prompt was prefilling there: its wait says nothing of the speed.
    speed.observe(PrefillTicket {1000, false}, 4000, 1000 + 80000);
    QCOMPARE(speed.usPerToken(), 0.0);
    // Too short: mostly the fixed cost of a step and the network.
    speed.observe(PrefillTicket {1000, true}, PrefillSpeed::MIN_SAMPLE_TOKENS - 1, 1000 + 80000);
    QCOMPARE(speed.usPerToken(), 0.0);
    // A first token no later than the send (a clock step) teaches nothing.
    speed.observe(PrefillTicket {1000, true}, 4000, 1000);
    QCOMPARE(speed.usPerToken(), 0.0);
    // 4,000 tokens in 80 ms: 20 µs per token, taken as is.
    speed.observe(PrefillTicket {1000, true}, 4000, 1000 + 80000);
    QCOMPARE(speed.usPerToken(), 20.0);
}

void TestPrefillSpeed::smoothsLaterSamples()
{
    PrefillSpeed speed;
    speed.observe(PrefillTicket {0, true}, 1000, 20000); // 20 µs per token
    speed.observe(PrefillTicket {0, true}, 1000, 30000); // 30: moves by SMOOTHING of the gap
    QCOMPARE(speed.usPerToken(), 20.0 + PrefillSpeed::SMOOTHING * 10.0);
    speed.observe(PrefillTicket {0, false}, 1000, 90000); // not alone: ignored
    QCOMPARE(speed.usPerToken(), 20.0 + PrefillSpeed::SMOOTHING * 10.0);
}

QTEST_GUILESS_MAIN(TestPrefillSpeed)
#include "testprefillspeed.moc"
