#include "routing/ratelimitheaders.h"

#include <QDateTime>
#include <QTest>

#include <vector>

using Gateway::Routing::RateLimitHeaders;

namespace {

using Headers = std::vector<RateLimitHeaders::HeaderPair>;

// Independent of the parser under test: Qt's own calendar arithmetic.
qint64 utcMs(int year, int month, int day, int hour, int minute, int second, int ms = 0)
{
    return QDateTime {QDate {year, month, day}, QTime {hour, minute, second, ms}, Qt::UTC}.toMSecsSinceEpoch();
}

RateLimitHeaders parse(const Headers &headers, qint64 nowEpochMs = 0)
{
    return RateLimitHeaders::parse(headers, nowEpochMs);
}

RateLimitHeaders parseOne(const char *name, const char *value, qint64 nowEpochMs = 0)
{
    return parse(Headers {{QByteArray {name}, QByteArray {value}}}, nowEpochMs);
}

} // namespace

class TestRateLimitHeaders final : public QObject {
    Q_OBJECT

private slots:
    void goDurations_data();
    void goDurations();
    void malformedGoDurations_data();
    void malformedGoDurations();
    void openAiHeaders();
    void retryAfterSeconds();
    void retryAfterHttpDates_data();
    void retryAfterHttpDates();
    void retryAfterMsTakesPrecedence();
    void anthropicHeaders();
    void anthropicTokenBucketsTakeTheMinimum();
    void rfc3339Forms_data();
    void rfc3339Forms();
    void malformedValuesAreIgnored_data();
    void malformedValuesAreIgnored();
    void malformedDuplicateKeepsEarlierValue();
    void readerOverAnyHeaderList();
    void unrelatedHeadersAreSkipped();
};

void TestRateLimitHeaders::goDurations_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<qint64>("ms");
    QTest::newRow("1s") << QByteArray {"1s"} << qint64 {1000};
    QTest::newRow("6m0s") << QByteArray {"6m0s"} << qint64 {360000};
    QTest::newRow("20ms") << QByteArray {"20ms"} << qint64 {20};
    QTest::newRow("1h2m3.5s") << QByteArray {"1h2m3.5s"} << qint64 {3723500};
    QTest::newRow("2m59.56s") << QByteArray {"2m59.56s"} << qint64 {179560};
    QTest::newRow("7.66s") << QByteArray {"7.66s"} << qint64 {7660};
    QTest::newRow(".5s") << QByteArray {".5s"} << qint64 {500};
    QTest::newRow("0") << QByteArray {"0"} << qint64 {0};
    QTest::newRow("0s") << QByteArray {"0s"} << qint64 {0};
    QTest::newRow("+1s") << QByteArray {"+1s"} << qint64 {1000};
    QTest::newRow("spaces") << QByteArray {" 3s "} << qint64 {3000};
    // Rounded up to whole ms: a reset is never reported early.
    QTest::newRow("1.5ms") << QByteArray {"1.5ms"} << qint64 {2};
    QTest::newRow("500us") << QByteArray {"500us"} << qint64 {1};
    QTest::newRow("micro sign") << QByteArray {"250\xC2\xB5s"} << qint64 {1};
    QTest::newRow("greek mu") << QByteArray {"1500\xCE\xBCs"} << qint64 {2};
    QTest::newRow("100ns") << QByteArray {"100ns"} << qint64 {1};
    QTest::newRow("1s1ns") << QByteArray {"1s1ns"} << qint64 {1001};
}

void TestRateLimitHeaders::goDurations()
{
    QFETCH(QByteArray, text);
    QFETCH(qint64, ms);
    const auto parsed = RateLimitHeaders::parseGoDurationMs(text);
    QVERIFY(parsed.has_value());
    QCOMPARE(*parsed, ms);
}

void TestRateLimitHeaders::malformedGoDurations_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::newRow("empty") << QByteArray {};
    QTest::newRow("no unit") << QByteArray {"5"};
    QTest::newRow("unknown unit") << QByteArray {"1x"};
    QTest::newRow("unit only") << QByteArray {"s"};
    QTest::newRow("negative") << QByteArray {"-1s"};
    QTest::newRow("trailing number") << QByteArray {"1s2"};
    QTest::newRow("inner space") << QByteArray {"1 s"};
    QTest::newRow("dot only") << QByteArray {".s"};
    QTest::newRow("words") << QByteArray {"soon"};
    QTest::newRow("huge") << QByteArray {"99999999999999h"};
}

void TestRateLimitHeaders::malformedGoDurations()
{
    QFETCH(QByteArray, text);
    QVERIFY(!RateLimitHeaders::parseGoDurationMs(text).has_value());
}

void TestRateLimitHeaders::openAiHeaders()
{
    const RateLimitHeaders h = parse({
        {"x-ratelimit-limit-requests", "60"},
        {"x-ratelimit-limit-tokens", "150000"},
        {"x-ratelimit-remaining-requests", "59"},
        {"x-ratelimit-remaining-tokens", "149984"},
        {"x-ratelimit-reset-requests", "1s"},
        {"x-ratelimit-reset-tokens", "6m0s"},
    });
    QCOMPARE(h.limitRequests, std::int64_t {60});
    QCOMPARE(h.limitTokens, std::int64_t {150000});
    QCOMPARE(h.remainingRequests, std::int64_t {59});
    QCOMPARE(h.remainingTokens, std::int64_t {149984});
    QCOMPARE(h.resetRequestsMs, qint64 {1000});
    QCOMPARE(h.resetTokensMs, qint64 {360000});
    QCOMPARE(h.retryAfterMs, qint64 {-1});
    QVERIFY(!h.isEmpty());
}

void TestRateLimitHeaders::retryAfterSeconds()
{
    QCOMPARE(parseOne("retry-after", "30").retryAfterMs, qint64 {30000});
    QCOMPARE(parseOne("retry-after", "0").retryAfterMs, qint64 {0});
    QCOMPARE(parseOne("retry-after", "1.5").retryAfterMs, qint64 {1500}); // lenient: fractional seconds
    QCOMPARE(parseOne("retry-after", " 2 ").retryAfterMs, qint64 {2000});
}

void TestRateLimitHeaders::retryAfterHttpDates_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<qint64>("ms");
    QTest::newRow("IMF-fixdate") << QByteArray {"Sun, 06 Nov 1994 08:49:37 GMT"} << qint64 {30000};
    QTest::newRow("RFC 850") << QByteArray {"Sunday, 06-Nov-94 08:49:37 GMT"} << qint64 {30000};
    QTest::newRow("asctime") << QByteArray {"Sun Nov  6 08:49:37 1994"} << qint64 {30000};
    QTest::newRow("next day") << QByteArray {"Mon, 07 Nov 1994 08:49:07 GMT"} << qint64 {86400000};
    QTest::newRow("in the past") << QByteArray {"Sun, 06 Nov 1994 08:00:00 GMT"} << qint64 {0};
}

void TestRateLimitHeaders::retryAfterHttpDates()
{
    QFETCH(QByteArray, text);
    QFETCH(qint64, ms);
    const qint64 now = utcMs(1994, 11, 6, 8, 49, 7);
    QCOMPARE(parse({{"retry-after", text}}, now).retryAfterMs, ms);
}

void TestRateLimitHeaders::retryAfterMsTakesPrecedence()
{
    QCOMPARE(parse({{"retry-after", "2"}, {"retry-after-ms", "1234"}}).retryAfterMs, qint64 {1234});
    QCOMPARE(parse({{"retry-after-ms", "1234"}, {"retry-after", "2"}}).retryAfterMs, qint64 {1234});
    QCOMPARE(parseOne("retry-after-ms", "20.2").retryAfterMs, qint64 {21});
}

void TestRateLimitHeaders::anthropicHeaders()
{
    const qint64 now = utcMs(2024, 5, 1, 12, 0, 0);
    const RateLimitHeaders h = parse(
        {
            {"anthropic-ratelimit-requests-limit", "50"},
            {"anthropic-ratelimit-requests-remaining", "49"},
            {"anthropic-ratelimit-requests-reset", "2024-05-01T12:00:30Z"},
            {"anthropic-ratelimit-tokens-limit", "100000"},
            {"anthropic-ratelimit-tokens-remaining", "90000"},
            {"anthropic-ratelimit-tokens-reset", "2024-05-01T12:01:00Z"},
            {"retry-after", "5"},
        },
        now);
    QCOMPARE(h.limitRequests, std::int64_t {50});
    QCOMPARE(h.remainingRequests, std::int64_t {49});
    QCOMPARE(h.resetRequestsMs, qint64 {30000});
    QCOMPARE(h.limitTokens, std::int64_t {100000});
    QCOMPARE(h.remainingTokens, std::int64_t {90000});
    QCOMPARE(h.resetTokensMs, qint64 {60000});
    QCOMPARE(h.retryAfterMs, qint64 {5000});

    // A reset already in the past: it has happened, zero delay.
    QCOMPARE(parse({{"anthropic-ratelimit-requests-reset", "2024-05-01T11:59:00Z"}}, now).resetRequestsMs,
             qint64 {0});
}

void TestRateLimitHeaders::anthropicTokenBucketsTakeTheMinimum()
{
    const qint64 now = utcMs(2024, 5, 1, 12, 0, 0);
    const RateLimitHeaders h = parse(
        {
            {"anthropic-ratelimit-tokens-remaining", "9000"},
            {"anthropic-ratelimit-tokens-reset", "2024-05-01T12:00:50Z"},
            {"anthropic-ratelimit-input-tokens-limit", "8000"},
            {"anthropic-ratelimit-input-tokens-remaining", "4000"},
            {"anthropic-ratelimit-input-tokens-reset", "2024-05-01T12:00:10Z"},
            {"anthropic-ratelimit-output-tokens-remaining", "7000"},
            {"anthropic-ratelimit-output-tokens-reset", "2024-05-01T12:00:20Z"},
        },
        now);
    QCOMPARE(h.remainingTokens, std::int64_t {4000});
    QCOMPARE(h.resetTokensMs, qint64 {10000}); // the reset of the bucket that is lowest
    QCOMPARE(h.limitTokens, std::int64_t {8000});

    // Order does not matter; the output bucket is the tightest here.
    const RateLimitHeaders other = parse(
        {
            {"anthropic-ratelimit-output-tokens-remaining", "10"},
            {"anthropic-ratelimit-output-tokens-reset", "2024-05-01T12:00:20Z"},
            {"anthropic-ratelimit-input-tokens-remaining", "4000"},
        },
        now);
    QCOMPARE(other.remainingTokens, std::int64_t {10});
    QCOMPARE(other.resetTokensMs, qint64 {20000});
}

void TestRateLimitHeaders::rfc3339Forms_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<qint64>("epochMs");
    QTest::newRow("Z") << QByteArray {"2024-05-01T12:00:30Z"} << utcMs(2024, 5, 1, 12, 0, 30);
    QTest::newRow("lower-case") << QByteArray {"2024-05-01t12:00:30z"} << utcMs(2024, 5, 1, 12, 0, 30);
    QTest::newRow("positive offset") << QByteArray {"2024-05-01T14:00:30+02:00"} << utcMs(2024, 5, 1, 12, 0, 30);
    QTest::newRow("negative offset") << QByteArray {"2024-05-01T07:30:30-04:30"} << utcMs(2024, 5, 1, 12, 0, 30);
    QTest::newRow("fraction") << QByteArray {"2024-05-01T12:00:30.5Z"} << utcMs(2024, 5, 1, 12, 0, 30, 500);
    QTest::newRow("fraction rounded up") << QByteArray {"2024-05-01T12:00:30.0001Z"}
                                         << utcMs(2024, 5, 1, 12, 0, 30, 1);
    QTest::newRow("micro") << QByteArray {"2024-05-01T12:00:30.123456Z"} << utcMs(2024, 5, 1, 12, 0, 30, 124);
    QTest::newRow("leap day") << QByteArray {"2024-02-29T00:00:00Z"} << utcMs(2024, 2, 29, 0, 0, 0);
    QTest::newRow("crosses midnight") << QByteArray {"2024-05-01T23:30:00-01:00"} << utcMs(2024, 5, 2, 0, 30, 0);
}

void TestRateLimitHeaders::rfc3339Forms()
{
    QFETCH(QByteArray, text);
    QFETCH(qint64, epochMs);
    const auto parsed = RateLimitHeaders::parseRfc3339Ms(text);
    QVERIFY(parsed.has_value());
    QCOMPARE(*parsed, epochMs);
}

void TestRateLimitHeaders::malformedValuesAreIgnored_data()
{
    QTest::addColumn<QByteArray>("name");
    QTest::addColumn<QByteArray>("value");
    QTest::newRow("remaining words") << QByteArray {"x-ratelimit-remaining-requests"} << QByteArray {"many"};
    QTest::newRow("remaining negative") << QByteArray {"x-ratelimit-remaining-tokens"} << QByteArray {"-5"};
    QTest::newRow("remaining suffix") << QByteArray {"x-ratelimit-remaining-requests"} << QByteArray {"12a"};
    QTest::newRow("remaining empty") << QByteArray {"x-ratelimit-remaining-requests"} << QByteArray {""};
    QTest::newRow("remaining overflow") << QByteArray {"x-ratelimit-remaining-requests"}
                                        << QByteArray {"99999999999999999999999"};
    QTest::newRow("limit fraction") << QByteArray {"x-ratelimit-limit-requests"} << QByteArray {"1.5"};
    QTest::newRow("reset no unit") << QByteArray {"x-ratelimit-reset-requests"} << QByteArray {"20"};
    QTest::newRow("reset words") << QByteArray {"x-ratelimit-reset-tokens"} << QByteArray {"soon"};
    QTest::newRow("retry-after words") << QByteArray {"retry-after"} << QByteArray {"tomorrow"};
    QTest::newRow("retry-after negative") << QByteArray {"retry-after"} << QByteArray {"-3"};
    QTest::newRow("retry-after bad day") << QByteArray {"retry-after"} << QByteArray {"Sun, 32 Nov 1994 08:49:37 GMT"};
    QTest::newRow("retry-after bad month") << QByteArray {"retry-after"}
                                           << QByteArray {"Sun, 06 Foo 1994 08:49:37 GMT"};
    QTest::newRow("retry-after bad time") << QByteArray {"retry-after"} << QByteArray {"Sun, 06 Nov 1994 25:49:37 GMT"};
    QTest::newRow("retry-after no zone") << QByteArray {"retry-after"} << QByteArray {"Sun, 06 Nov 1994 08:49:37"};
    QTest::newRow("retry-after-ms words") << QByteArray {"retry-after-ms"} << QByteArray {"fast"};
    QTest::newRow("anthropic bad month") << QByteArray {"anthropic-ratelimit-requests-reset"}
                                         << QByteArray {"2024-13-01T00:00:00Z"};
    QTest::newRow("anthropic no zone") << QByteArray {"anthropic-ratelimit-tokens-reset"}
                                       << QByteArray {"2024-05-01T12:00:00"};
    QTest::newRow("anthropic feb 30") << QByteArray {"anthropic-ratelimit-tokens-reset"}
                                      << QByteArray {"2023-02-30T12:00:00Z"};
    QTest::newRow("anthropic trailing") << QByteArray {"anthropic-ratelimit-tokens-reset"}
                                        << QByteArray {"2024-05-01T12:00:00Zjunk"};
    QTest::newRow("anthropic remaining words") << QByteArray {"anthropic-ratelimit-input-tokens-remaining"}
                                               << QByteArray {"lots"};
}

void TestRateLimitHeaders::malformedValuesAreIgnored()
{
    QFETCH(QByteArray, name);
    QFETCH(QByteArray, value);
    const RateLimitHeaders h = parse({{name, value}}, utcMs(2024, 5, 1, 12, 0, 0));
    QVERIFY2(h.isEmpty(), qPrintable(QString::fromLatin1(name + ": " + value)));
}

void TestRateLimitHeaders::malformedDuplicateKeepsEarlierValue()
{
    const RateLimitHeaders h = parse({
        {"x-ratelimit-remaining-requests", "5"},
        {"x-ratelimit-remaining-requests", "five"},
        {"x-ratelimit-reset-requests", "2s"},
        {"x-ratelimit-reset-requests", "2 seconds"},
    });
    QCOMPARE(h.remainingRequests, std::int64_t {5});
    QCOMPARE(h.resetRequestsMs, qint64 {2000});
}

void TestRateLimitHeaders::readerOverAnyHeaderList()
{
    struct OwnHeader {
        QByteArray name;
        QByteArray value;
    };
    const std::vector<OwnHeader> list {{"content-type", "application/json"}, {"x-ratelimit-remaining-tokens", "0"},
                                       {"x-ratelimit-reset-tokens", "20ms"}};
    RateLimitHeaders::Reader reader {0};
    for (const OwnHeader &header : list) {
        reader.add(header.name, header.value);
    }
    const RateLimitHeaders h = reader.result();
    QCOMPARE(h.remainingTokens, std::int64_t {0});
    QCOMPARE(h.resetTokensMs, qint64 {20});
    QCOMPARE(h.remainingRequests, std::int64_t {-1});
}

void TestRateLimitHeaders::unrelatedHeadersAreSkipped()
{
    RateLimitHeaders::Reader reader {0};
    QVERIFY(!reader.add("content-length", "12"));
    QVERIFY(!reader.add("x-ratelimit-something", "12"));
    QVERIFY(!reader.add("anthropic-ratelimit-widgets-remaining", "12"));
    QVERIFY(reader.add("x-ratelimit-remaining-requests", "12"));
    QVERIFY(reader.add("retry-after", "garbage")); // recognised, value ignored
    QVERIFY(parse({{"content-length", "12"}, {"date", "Sun, 06 Nov 1994 08:49:37 GMT"}}).isEmpty());
}

QTEST_APPLESS_MAIN(TestRateLimitHeaders)
#include "testratelimitheaders.moc"
