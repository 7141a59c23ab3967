// The redaction patterns: what the built-ins catch and what they leave alone, custom
// patterns, JSON-aware redaction, the firewall's first-match rule, and linear time on
// input built to make a backtracking engine explode.

#include "safety/builtinpatterns.h"
#include "safety/luhn.h"
#include "safety/redactor.h"

#include <QElapsedTimer>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

using namespace Gateway::Safety;

namespace {

Redactor builtins()
{
    return Redactor {builtinPatterns()};
}

} // namespace

class TestRedactor final : public QObject {
    Q_OBJECT

private slots:
    void luhnAcceptsCardsOnly() const
    {
        QVERIFY(isLuhnCardNumber("4111111111111111"));
        QVERIFY(isLuhnCardNumber("4111 1111 1111 1111"));
        QVERIFY(isLuhnCardNumber("5500-0000-0000-0004"));
        QVERIFY(isLuhnCardNumber("378282246310005")); // 15-digit Amex
        QVERIFY(!isLuhnCardNumber("4111111111111112"));
        QVERIFY(!isLuhnCardNumber("123456789012"));         // too short
        QVERIFY(!isLuhnCardNumber("41111111111111111111")); // too long
    }

    void builtinsRedactWhatTheyName_data() const
    {
        QTest::addColumn<QByteArray>("text");
        QTest::addColumn<QByteArray>("expected");
        QTest::newRow("openai key") << QByteArray("use sk-proj-AbCdEfGhIjKlMnOpQrStUv12 now")
                                    << QByteArray("use [REDACTED:api_keys] now");
        QTest::newRow("anthropic key") << QByteArray("k=sk-ant-api03-AAAAAAAAAAAAAAAAAAAAAAAA-bbbb")
                                       << QByteArray("k=[REDACTED:api_keys]");
        QTest::newRow("aws key") << QByteArray("AKIAIOSFODNN7EXAMPLE is mine") << QByteArray("[REDACTED:api_keys] is mine");
        QTest::newRow("bearer") << QByteArray("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.abc")
                                << QByteArray("Authorization: [REDACTED:api_keys]");
        QTest::newRow("bearer any case") << QByteArray("x bEaReR abcdefghijklmnop1234") << QByteArray("x [REDACTED:api_keys]");
        QTest::newRow("card in a sentence") << QByteArray("pay with 5500 0000 0000 0004.") << QByteArray("pay with [REDACTED:card_numbers].");
        QTest::newRow("github") << QByteArray("ghp_0123456789abcdefghijklmnopqrstuvwxyz")
                                << QByteArray("[REDACTED:api_keys]");
        QTest::newRow("email") << QByteArray("write to Jane.Doe+llm@mail.example.co.uk, thanks")
                               << QByteArray("write to [REDACTED:emails], thanks");
        QTest::newRow("card spaced") << QByteArray("card 4111 1111 1111 1111 exp 12/29")
                                     << QByteArray("card [REDACTED:card_numbers] exp 12/29");
        QTest::newRow("card dashed") << QByteArray("5500-0000-0000-0004") << QByteArray("[REDACTED:card_numbers]");
        QTest::newRow("not a card") << QByteArray("order 4111111111111112 shipped") << QByteArray("order 4111111111111112 shipped");
        QTest::newRow("timestamp") << QByteArray("at 1732281600000") << QByteArray("at 1732281600000");
        QTest::newRow("short sk") << QByteArray("ask-me sk-short") << QByteArray("ask-me sk-short");
        QTest::newRow("plain") << QByteArray("nothing to see") << QByteArray("nothing to see");
        QTest::newRow("several") << QByteArray("a@b.io and c@d.io") << QByteArray("[REDACTED:emails] and [REDACTED:emails]");
    }

    void builtinsRedactWhatTheyName() const
    {
        QFETCH(QByteArray, text);
        QFETCH(QByteArray, expected);
        const Redactor redactor = builtins();
        QByteArray redacted = text;
        const std::uint64_t matched = redactor.redact(redacted);
        QCOMPARE(redacted, expected);
        QCOMPARE(matched != 0, text != expected);
    }

    void customPatternsAndRuleBits() const
    {
        const Redactor redactor {{{"emails", builtinPattern("emails")->regex, MatchCheck::None},
                                  {"employee_id", "EMP-[0-9]{6}", MatchCheck::None}}};
        QByteArray text = "EMP-123456 is x@y.org";
        QCOMPARE(redactor.redact(text), std::uint64_t {3});
        QCOMPARE(text, QByteArray("[REDACTED:employee_id] is [REDACTED:emails]"));
        QCOMPARE(redactor.firstMatch("only EMP-000001"), 1);
        QCOMPARE(redactor.firstMatch("x@y.org EMP-000001"), 0); // rule order, not text order
        QCOMPARE(redactor.firstMatch("clean"), -1);
        QCOMPARE(redactor.redacted(QStringLiteral("émigré x@y.org")), QStringLiteral("émigré [REDACTED:emails]"));
    }

    void jsonDocumentsStayValid() const
    {
        const Redactor redactor {{{"quoted", "\"[a-z]+@", MatchCheck::None}, {"emails", builtinPattern("emails")->regex, MatchCheck::None}}};
        // The reason string holds an escaped upstream body: redaction works on the
        // decoded text, so the result still parses.
        QByteArray json = "{\"reason\":\"answered 500: {\\\"error\\\":\\\"bad x@y.org\\\"}\",\"n\":3}";
        QVERIFY(redactor.redactJson(json));
        const QJsonObject object = QJsonDocument::fromJson(json).object();
        QCOMPARE(object.value(QStringLiteral("n")).toInt(), 3);
        QCOMPARE(object.value(QStringLiteral("reason")).toString(),
                 QStringLiteral("answered 500: {\"error\":\"bad [REDACTED:emails]\"}"));
        QByteArray clean = "{\"a\":\"b\"}";
        QVERIFY(!redactor.redactJson(clean));
        QCOMPARE(clean, QByteArray("{\"a\":\"b\"}"));
    }

    void hostileInputTakesLinearTime() const
    {
        // (a+)+$ backtracks exponentially in PCRE-style engines on "aaaa...!"; RE2 does
        // not backtrack. 100 000 characters must take well under a second even on a
        // loaded machine (the exponential case would not finish at all).
        const Redactor redactor {{{"evil", "(a+)+$", MatchCheck::None}, {"evil2", "(x|x)*y", MatchCheck::None}}};
        const QByteArray hostile = QByteArray(100000, 'a') + '!' + QByteArray(100000, 'x');
        QElapsedTimer timer;
        timer.start();
        QCOMPARE(redactor.firstMatch(hostile), -1);
        QByteArray copy = hostile;
        QCOMPARE(redactor.redact(copy), std::uint64_t {0});
        QVERIFY2(timer.elapsed() < 5000, qPrintable(QString::number(timer.elapsed())));
        // And the built-ins on a long run of near-misses (digits, '@'s).
        QByteArray digits = QByteArray(200000, '1');
        const Redactor shipped = builtins();
        timer.restart();
        shipped.redact(digits);
        QVERIFY2(timer.elapsed() < 5000, qPrintable(QString::number(timer.elapsed())));
    }

    void prefiltersNeverHideAMatch() const
    {
        // Each built-in's prefilter passes every text its pattern matches.
        const QList<std::pair<QByteArray, QByteArray>> samples {
            {"api_keys", "sk-ant-api03-AAAAAAAAAAAAAAAAAAAAAAAA"}, {"api_keys", "AKIAIOSFODNN7EXAMPLE"},
            {"api_keys", "AIzaSyA1234567890abcdefghijklmnopqrstuv"}, {"api_keys", "ghs_0123456789abcdefghijklmnopqrstuvwxyz"},
            {"api_keys", "xoxb-1234567890-abc"}, {"api_keys", "BEARER abcdefghijklmnopqrstu"},
            {"emails", "a@b.co"}, {"card_numbers", "4111-1111-1111-1111"}, {"card_numbers", "378282246310005"}};
        for (const auto &[name, text] : samples) {
            const auto pattern = builtinPattern(name);
            QVERIFY(pattern);
            QVERIFY2(mayMatch(pattern->prefilter, text), text.constData());
            QVERIFY2(Redactor({*pattern}).firstMatch(text) == 0, text.constData());
        }
        QVERIFY(!mayMatch(Prefilter::CardDigits, "2024-11-22 10:31, order 12345"));
        QVERIFY(!mayMatch(Prefilter::Email, "no at sign"));
        QVERIFY(!mayMatch(Prefilter::KeyPrefix, "a plain sentence about skies"));
    }

    void invalidPatternsAreReported() const
    {
        QVERIFY(patternError(QStringLiteral("EMP-[0-9]{6}")).isEmpty());
        QVERIFY(!patternError(QStringLiteral("EMP-[0-9")).isEmpty());
        QVERIFY(!patternError(QStringLiteral("(?<=x)y")).isEmpty()); // look-behind: not RE2
        QCOMPARE(builtinPatternNames(), (QStringList {QStringLiteral("api_keys"), QStringLiteral("emails"), QStringLiteral("card_numbers")}));
    }
};

QTEST_APPLESS_MAIN(TestRedactor)
#include "testredactor.moc"
