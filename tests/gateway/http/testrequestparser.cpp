#include "http/requestparser.h"

#include <QTest>

using Gateway::Http::MAX_HEADER_BYTES;
using Gateway::Http::Request;
using Gateway::Http::RequestParser;

namespace {

constexpr qint64 MAX_BODY = 1024;

using Status = RequestParser::Status;
using ErrorKind = RequestParser::ErrorKind;

RequestParser::Result feedAll(RequestParser &parser, const QByteArray &bytes)
{
    return parser.feed(bytes.constData(), bytes.size());
}

// Feeds one byte at a time; returns the status after the last byte that was accepted
// and the total consumed.
RequestParser::Result feedByteByByte(RequestParser &parser, const QByteArray &bytes)
{
    RequestParser::Result total;
    for (qsizetype i = 0; i < bytes.size(); ++i) {
        const auto result = parser.feed(bytes.constData() + i, 1);
        total.consumed += result.consumed;
        total.status = result.status;
        if (result.status != Status::NeedMore) {
            break;
        }
    }
    return total;
}

const QByteArray CHUNKED_POST = QByteArrayLiteral("POST /v1/chat/completions HTTP/1.1\r\n"
                                                  "Host: gateway\r\n"
                                                  "Transfer-Encoding: chunked\r\n"
                                                  "\r\n"
                                                  "5;name=value\r\n"
                                                  "hello\r\n"
                                                  "7;a=1;b=\"quoted\"\r\n"
                                                  ", world\r\n"
                                                  "0\r\n"
                                                  "X-Checksum: abc\r\n"
                                                  "\r\n");

} // namespace

class TestRequestParser final : public QObject {
    Q_OBJECT

private slots:
    void simpleGetWithQuery();
    void postWithContentLength();
    void chunkedBodyIsDechunked();
    void chunkTrailersDoNotBecomeHeaders();
    void byteByByteGivesTheSameRequest_data();
    void byteByByteGivesTheSameRequest();
    void pipelinedRequestsAreParsedOneAtATime();
    void contentLengthAndTransferEncodingIsRejected();
    void differingContentLengthsAreRejected();
    void equalDuplicateContentLengthsAreRejected();
    void transferCodingOtherThanChunkedIsUnsupported();
    void identityTransferEncodingIsRejected();
    void oversizedHeadersAreRejected();
    void manySmallHeadersAreCountedTogether();
    void declaredBodyAboveLimitIsRejectedBeforeItArrives();
    void chunkedBodyAboveLimitIsRejected();
    void bodyExactlyAtLimitIsAccepted();
    void http11WithoutHostIsRejected();
    void duplicateHostIsRejected();
    void http10WithoutHostIsAccepted();
    void connectionCloseDisablesKeepAlive();
    void invalidContentLengthIsRejected_data();
    void invalidContentLengthIsRejected();
    void headerNamesAreLowerCasedAndValuesTrimmed();
    void expectContinueIsReportedAfterHeaders();
    void garbageRequestLineIsRejected_data();
    void garbageRequestLineIsRejected();
    void unsupportedHttpMajorVersionIsRejected();
    void feedAfterErrorKeepsFailing();
};

void TestRequestParser::simpleGetWithQuery()
{
    const QByteArray raw = QByteArrayLiteral("GET /v1/models?limit=10&order=asc HTTP/1.1\r\nHost: localhost:8420\r\n\r\n");
    RequestParser parser {MAX_BODY};
    QVERIFY(!parser.hasStarted());
    const auto result = feedAll(parser, raw);
    QCOMPARE(result.status, Status::Complete);
    QCOMPARE(result.consumed, raw.size());
    QCOMPARE(parser.errorKind(), ErrorKind::None);

    const Request request = parser.takeRequest();
    QCOMPARE(request.method, QByteArrayLiteral("GET"));
    QCOMPARE(request.path, QByteArrayLiteral("/v1/models"));
    QCOMPARE(request.query, QByteArrayLiteral("limit=10&order=asc"));
    QCOMPARE(request.versionMinor, 1);
    QVERIFY(request.keepAlive);
    QVERIFY(request.body.isEmpty());
    QCOMPARE(request.headers.size(), std::size_t {1});
    QCOMPARE(request.headers[0].name, QByteArrayLiteral("host"));
    QCOMPARE(request.headers[0].value, QByteArrayLiteral("localhost:8420"));
    QCOMPARE(request.header("host"), QByteArrayLiteral("localhost:8420"));
    QVERIFY(request.header("content-length").isNull());

    // takeRequest() resets the per-message state.
    QVERIFY(!parser.hasStarted());
    QVERIFY(!parser.headersComplete());
    QCOMPARE(parser.declaredContentLength(), qint64 {-1});
}

void TestRequestParser::postWithContentLength()
{
    const QByteArray body = QByteArrayLiteral("{\"model\":\"chat\"}");
    const QByteArray raw = "POST /v1/chat/completions HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\n"
                           "Content-Length: " +
                           QByteArray::number(body.size()) + "\r\n\r\n" + body;
    RequestParser parser {MAX_BODY};

    // Headers only: the body is still outstanding.
    const qsizetype headEnd = raw.indexOf("\r\n\r\n") + 4;
    const auto head = parser.feed(raw.constData(), headEnd);
    QCOMPARE(head.status, Status::NeedMore);
    QCOMPARE(head.consumed, headEnd);
    QVERIFY(parser.hasStarted());
    QVERIFY(parser.headersComplete());
    QCOMPARE(parser.declaredContentLength(), body.size());

    const auto rest = parser.feed(raw.constData() + headEnd, raw.size() - headEnd);
    QCOMPARE(rest.status, Status::Complete);
    QCOMPARE(rest.consumed, raw.size() - headEnd);

    const Request request = parser.takeRequest();
    QCOMPARE(request.method, QByteArrayLiteral("POST"));
    QCOMPARE(request.path, QByteArrayLiteral("/v1/chat/completions"));
    QVERIFY(request.query.isEmpty());
    QCOMPARE(request.body, body);
    QCOMPARE(request.header("content-type"), QByteArrayLiteral("application/json"));
    QCOMPARE(request.header("content-length"), QByteArray::number(body.size()));
}

void TestRequestParser::chunkedBodyIsDechunked()
{
    RequestParser parser {MAX_BODY};
    const auto result = feedAll(parser, CHUNKED_POST);
    QCOMPARE(result.status, Status::Complete);
    QCOMPARE(result.consumed, CHUNKED_POST.size());
    const Request request = parser.takeRequest();
    QCOMPARE(request.body, QByteArrayLiteral("hello, world"));
    QCOMPARE(request.header("transfer-encoding"), QByteArrayLiteral("chunked"));
    QCOMPARE(request.path, QByteArrayLiteral("/v1/chat/completions"));
}

void TestRequestParser::chunkTrailersDoNotBecomeHeaders()
{
    // Trailer fields arrive after the header section was validated (Host, framing), so
    // they must not be merged into it (RFC 9110 section 6.5.1), and every header name
    // in a Request is lower-case.
    RequestParser parser {MAX_BODY};
    QCOMPARE(feedAll(parser, CHUNKED_POST).status, Status::Complete);
    const Request request = parser.takeRequest();
    for (const auto &header : request.headers) {
        QCOMPARE(header.name, header.name.toLower());
    }
    QVERIFY(request.header("x-checksum").isNull());
    QCOMPARE(request.headers.size(), std::size_t {2});
}

void TestRequestParser::byteByByteGivesTheSameRequest_data()
{
    QTest::addColumn<QByteArray>("raw");
    QTest::newRow("get") << QByteArrayLiteral("GET /a/b?c=d HTTP/1.1\r\nHost: x\r\nX-Long-Header:   v  \r\n\r\n");
    QTest::newRow("content-length") << QByteArrayLiteral(
        "POST /v1/embeddings HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n{\"input\":1}");
    QTest::newRow("chunked") << CHUNKED_POST;
}

void TestRequestParser::byteByByteGivesTheSameRequest()
{
    QFETCH(QByteArray, raw);

    RequestParser whole {MAX_BODY};
    QCOMPARE(feedAll(whole, raw).status, Status::Complete);
    const Request expected = whole.takeRequest();

    RequestParser incremental {MAX_BODY};
    const auto result = feedByteByByte(incremental, raw);
    QCOMPARE(result.status, Status::Complete);
    QCOMPARE(result.consumed, raw.size());
    const Request actual = incremental.takeRequest();

    QCOMPARE(actual.method, expected.method);
    QCOMPARE(actual.path, expected.path);
    QCOMPARE(actual.query, expected.query);
    QCOMPARE(actual.body, expected.body);
    QCOMPARE(actual.versionMinor, expected.versionMinor);
    QCOMPARE(actual.keepAlive, expected.keepAlive);
    QCOMPARE(actual.headers.size(), expected.headers.size());
    for (std::size_t i = 0; i < actual.headers.size(); ++i) {
        QCOMPARE(actual.headers[i].name, expected.headers[i].name);
        QCOMPARE(actual.headers[i].value, expected.headers[i].value);
    }
}

void TestRequestParser::pipelinedRequestsAreParsedOneAtATime()
{
    const QByteArray first = QByteArrayLiteral("POST /first HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc");
    const QByteArray second = QByteArrayLiteral("GET /second?q=1 HTTP/1.1\r\nHost: x\r\n\r\n");
    const QByteArray third = QByteArrayLiteral("GET /third HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    QByteArray buffer = first + second + third;

    RequestParser parser {MAX_BODY};
    auto result = feedAll(parser, buffer);
    QCOMPARE(result.status, Status::Complete);
    QCOMPARE(result.consumed, first.size());
    Request request = parser.takeRequest();
    QCOMPARE(request.path, QByteArrayLiteral("/first"));
    QCOMPARE(request.body, QByteArrayLiteral("abc"));
    buffer.remove(0, result.consumed);

    result = feedAll(parser, buffer);
    QCOMPARE(result.status, Status::Complete);
    QCOMPARE(result.consumed, second.size());
    request = parser.takeRequest();
    QCOMPARE(request.method, QByteArrayLiteral("GET"));
    QCOMPARE(request.path, QByteArrayLiteral("/second"));
    QCOMPARE(request.query, QByteArrayLiteral("q=1"));
    QVERIFY(request.body.isEmpty());
    buffer.remove(0, result.consumed);

    result = feedAll(parser, buffer);
    QCOMPARE(result.status, Status::Complete);
    QCOMPARE(result.consumed, third.size());
    request = parser.takeRequest();
    QCOMPARE(request.path, QByteArrayLiteral("/third"));
    QVERIFY(!request.keepAlive);
}

void TestRequestParser::contentLengthAndTransferEncodingIsRejected()
{
    const QByteArray raw = QByteArrayLiteral("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
                                             "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
    RequestParser parser {MAX_BODY};
    const auto result = feedAll(parser, raw);
    QCOMPARE(result.status, Status::Error);
    QCOMPARE(parser.errorKind(), ErrorKind::BadRequest);
    QVERIFY(!parser.errorMessage().isEmpty());

    // The other order is refused as well.
    const QByteArray reversed = QByteArrayLiteral("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                                                  "Content-Length: 4\r\n\r\n0\r\n\r\n");
    RequestParser second {MAX_BODY};
    QCOMPARE(feedAll(second, reversed).status, Status::Error);
    QCOMPARE(second.errorKind(), ErrorKind::BadRequest);
}

void TestRequestParser::differingContentLengthsAreRejected()
{
    const QByteArray raw =
        QByteArrayLiteral("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 5\r\n\r\nabcde");
    RequestParser parser {MAX_BODY};
    QCOMPARE(feedAll(parser, raw).status, Status::Error);
    QCOMPARE(parser.errorKind(), ErrorKind::BadRequest);
}

void TestRequestParser::equalDuplicateContentLengthsAreRejected()
{
    // RFC 9112 allows a recipient to accept identical duplicates; refusing them is the
    // safe choice this parser makes (http_parser flags any second Content-Length).
    const QByteArray raw =
        QByteArrayLiteral("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc");
    RequestParser parser {MAX_BODY};
    QCOMPARE(feedAll(parser, raw).status, Status::Error);
    QCOMPARE(parser.errorKind(), ErrorKind::BadRequest);
}

void TestRequestParser::transferCodingOtherThanChunkedIsUnsupported()
{
    const QByteArray raw = QByteArrayLiteral(
        "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n");
    RequestParser parser {MAX_BODY};
    QCOMPARE(feedAll(parser, raw).status, Status::Error);
    QCOMPARE(parser.errorKind(), ErrorKind::UnsupportedCoding);
}

void TestRequestParser::identityTransferEncodingIsRejected()
{
    const QByteArray raw = QByteArrayLiteral("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity\r\n\r\nabc");
    RequestParser parser {MAX_BODY};
    QCOMPARE(feedAll(parser, raw).status, Status::Error);
    QCOMPARE(parser.errorKind(), ErrorKind::BadRequest);
}

void TestRequestParser::oversizedHeadersAreRejected()
{
    const QByteArray head = "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + QByteArray(MAX_HEADER_BYTES, 'a') + "\r\n\r\n";
    RequestParser parser {MAX_BODY};
    const auto result = feedAll(parser, head);
    QCOMPARE(result.status, Status::Error);
    QCOMPARE(parser.errorKind(), ErrorKind::HeadersTooLarge);
    QVERIFY(!parser.headersComplete());
}

void TestRequestParser::manySmallHeadersAreCountedTogether()
{
    // 2000 headers of about 40 bytes each: no single one is large, the block is.
    QByteArray head = QByteArrayLiteral("GET / HTTP/1.1\r\nHost: x\r\n");
    for (int i = 0; i < 2000; ++i) {
        head += "X-Header-" + QByteArray::number(i).rightJustified(5, '0') + ": 0123456789012345\r\n";
    }
    head += "\r\n";
    QVERIFY(head.size() > MAX_HEADER_BYTES);

    RequestParser parser {MAX_BODY};
    const auto result = feedByteByByte(parser, head);
    QCOMPARE(result.status, Status::Error);
    QCOMPARE(parser.errorKind(), ErrorKind::HeadersTooLarge);
    QVERIFY(result.consumed <= MAX_HEADER_BYTES);

    // A smaller limit applies when configured.
    RequestParser small {MAX_BODY, 128};
    QCOMPARE(feedAll(small, QByteArrayLiteral("GET / HTTP/1.1\r\nHost: x\r\nX-A: ") + QByteArray(200, 'b') + "\r\n\r\n")
                 .status,
             Status::Error);
    QCOMPARE(small.errorKind(), ErrorKind::HeadersTooLarge);
}

void TestRequestParser::declaredBodyAboveLimitIsRejectedBeforeItArrives()
{
    const QByteArray head = "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: " + QByteArray::number(MAX_BODY + 1) + "\r\n\r\n";
    RequestParser parser {MAX_BODY};
    const auto result = feedAll(parser, head);
    QCOMPARE(result.status, Status::Error);
    QCOMPARE(parser.errorKind(), ErrorKind::BodyTooLarge);
    QCOMPARE(parser.declaredContentLength(), MAX_BODY + 1);
}

void TestRequestParser::chunkedBodyAboveLimitIsRejected()
{
    RequestParser parser {16};
    QByteArray raw = QByteArrayLiteral("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                                       "a\r\n0123456789\r\n");
    QCOMPARE(feedAll(parser, raw).status, Status::NeedMore);
    // 10 + 7 bytes: one over the limit.
    const auto result = feedAll(parser, QByteArrayLiteral("7\r\nabcdefg\r\n0\r\n\r\n"));
    QCOMPARE(result.status, Status::Error);
    QCOMPARE(parser.errorKind(), ErrorKind::BodyTooLarge);
}

void TestRequestParser::bodyExactlyAtLimitIsAccepted()
{
    RequestParser parser {16};
    const QByteArray raw = QByteArrayLiteral("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                                             "a\r\n0123456789\r\n6\r\nabcdef\r\n0\r\n\r\n");
    QCOMPARE(feedAll(parser, raw).status, Status::Complete);
    QCOMPARE(parser.takeRequest().body, QByteArrayLiteral("0123456789abcdef"));

    const QByteArray fixed = "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 16\r\n\r\n" + QByteArray(16, 'z');
    QCOMPARE(feedAll(parser, fixed).status, Status::Complete);
    QCOMPARE(parser.takeRequest().body, QByteArray(16, 'z'));
}

void TestRequestParser::http11WithoutHostIsRejected()
{
    RequestParser parser {MAX_BODY};
    QCOMPARE(feedAll(parser, QByteArrayLiteral("GET / HTTP/1.1\r\nAccept: */*\r\n\r\n")).status, Status::Error);
    QCOMPARE(parser.errorKind(), ErrorKind::BadRequest);
}

void TestRequestParser::duplicateHostIsRejected()
{
    RequestParser parser {MAX_BODY};
    QCOMPARE(feedAll(parser, QByteArrayLiteral("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")).status, Status::Error);
    QCOMPARE(parser.errorKind(), ErrorKind::BadRequest);
}

void TestRequestParser::http10WithoutHostIsAccepted()
{
    const QByteArray raw = QByteArrayLiteral("GET /health HTTP/1.0\r\n\r\n");
    RequestParser parser {MAX_BODY};
    const auto result = feedAll(parser, raw);
    QCOMPARE(result.status, Status::Complete);
    QCOMPARE(result.consumed, raw.size());
    const Request request = parser.takeRequest();
    QCOMPARE(request.versionMinor, 0);
    QVERIFY(!request.keepAlive);
    QCOMPARE(request.path, QByteArrayLiteral("/health"));
    QVERIFY(request.headers.empty());
}

void TestRequestParser::connectionCloseDisablesKeepAlive()
{
    RequestParser parser {MAX_BODY};
    QCOMPARE(feedAll(parser, QByteArrayLiteral("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")).status,
             Status::Complete);
    QVERIFY(!parser.takeRequest().keepAlive);

    QCOMPARE(feedAll(parser, QByteArrayLiteral("GET / HTTP/1.1\r\nHost: x\r\n\r\n")).status, Status::Complete);
    QVERIFY(parser.takeRequest().keepAlive);

    // HTTP/1.0 opts in with keep-alive.
    QCOMPARE(feedAll(parser, QByteArrayLiteral("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")).status,
             Status::Complete);
    QVERIFY(parser.takeRequest().keepAlive);
}

void TestRequestParser::invalidContentLengthIsRejected_data()
{
    QTest::addColumn<QByteArray>("length");
    QTest::newRow("trailing letter") << QByteArrayLiteral("12a");
    QTest::newRow("negative") << QByteArrayLiteral("-1");
    QTest::newRow("plus sign") << QByteArrayLiteral("+5");
    QTest::newRow("empty") << QByteArray();
    QTest::newRow("inner space") << QByteArrayLiteral("1 2");
    QTest::newRow("hex") << QByteArrayLiteral("0x10");
}

void TestRequestParser::invalidContentLengthIsRejected()
{
    QFETCH(QByteArray, length);
    const QByteArray raw = "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: " + length + "\r\n\r\nhello hello";
    RequestParser parser {MAX_BODY};
    QCOMPARE(feedAll(parser, raw).status, Status::Error);
    QCOMPARE(parser.errorKind(), ErrorKind::BadRequest);
}

void TestRequestParser::headerNamesAreLowerCasedAndValuesTrimmed()
{
    const QByteArray raw = QByteArrayLiteral("GET / HTTP/1.1\r\n"
                                             "HOST: example\r\n"
                                             "X-Request-ID:    abc-123   \r\n"
                                             "Authorization:\tBearer sk-test\t\r\n"
                                             "x-empty:\r\n"
                                             "\r\n");
    RequestParser parser {MAX_BODY};
    QCOMPARE(feedAll(parser, raw).status, Status::Complete);
    const Request request = parser.takeRequest();
    QCOMPARE(request.headers.size(), std::size_t {4});
    QCOMPARE(request.headers[0].name, QByteArrayLiteral("host"));
    QCOMPARE(request.headers[0].value, QByteArrayLiteral("example"));
    QCOMPARE(request.headers[1].name, QByteArrayLiteral("x-request-id"));
    QCOMPARE(request.headers[1].value, QByteArrayLiteral("abc-123"));
    QCOMPARE(request.headers[2].name, QByteArrayLiteral("authorization"));
    QCOMPARE(request.headers[2].value, QByteArrayLiteral("Bearer sk-test"));
    QCOMPARE(request.headers[3].name, QByteArrayLiteral("x-empty"));
    QVERIFY(request.headers[3].value.isEmpty());
    QCOMPARE(request.header("x-request-id"), QByteArrayLiteral("abc-123"));
}

void TestRequestParser::expectContinueIsReportedAfterHeaders()
{
    const QByteArray head =
        QByteArrayLiteral("POST /v1/completions HTTP/1.1\r\nHost: x\r\nExpect: 100-Continue\r\nContent-Length: 4\r\n");
    RequestParser parser {MAX_BODY};
    QCOMPARE(feedAll(parser, head).status, Status::NeedMore);
    QVERIFY(!parser.headersComplete());
    QVERIFY(!parser.expectsContinue());

    QCOMPARE(feedAll(parser, QByteArrayLiteral("\r\n")).status, Status::NeedMore);
    QVERIFY(parser.headersComplete());
    QVERIFY(parser.expectsContinue());

    QCOMPARE(feedAll(parser, QByteArrayLiteral("body")).status, Status::Complete);
    QCOMPARE(parser.takeRequest().body, QByteArrayLiteral("body"));
    QVERIFY(!parser.expectsContinue());

    // Any other expectation is not a continue request.
    QCOMPARE(feedAll(parser, QByteArrayLiteral("GET / HTTP/1.1\r\nHost: x\r\nExpect: something\r\n\r\n")).status,
             Status::Complete);
    QVERIFY(!parser.expectsContinue());
}

void TestRequestParser::garbageRequestLineIsRejected_data()
{
    QTest::addColumn<QByteArray>("raw");
    QTest::newRow("no version") << QByteArrayLiteral("GET /\r\nHost: x\r\n\r\n");
    QTest::newRow("unknown method") << QByteArrayLiteral("FETCHME / HTTP/1.1\r\nHost: x\r\n\r\n");
    QTest::newRow("binary") << QByteArray("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11);
    QTest::newRow("words") << QByteArrayLiteral("hello there\r\n\r\n");
    QTest::newRow("bad version") << QByteArrayLiteral("GET / HTTP/x.y\r\nHost: x\r\n\r\n");
    QTest::newRow("space in target") << QByteArrayLiteral("GET /a b HTTP/1.1\r\nHost: x\r\n\r\n");
}

void TestRequestParser::garbageRequestLineIsRejected()
{
    QFETCH(QByteArray, raw);
    RequestParser parser {MAX_BODY};
    const auto result = feedAll(parser, raw);
    QCOMPARE(result.status, Status::Error);
    QCOMPARE(parser.errorKind(), ErrorKind::BadRequest);
    QVERIFY(!parser.errorMessage().isEmpty());
}

void TestRequestParser::unsupportedHttpMajorVersionIsRejected()
{
    RequestParser parser {MAX_BODY};
    QCOMPARE(feedAll(parser, QByteArrayLiteral("GET / HTTP/2.0\r\nHost: x\r\n\r\n")).status, Status::Error);
    QCOMPARE(parser.errorKind(), ErrorKind::BadRequest);
}

void TestRequestParser::feedAfterErrorKeepsFailing()
{
    RequestParser parser {MAX_BODY};
    QCOMPARE(feedAll(parser, QByteArrayLiteral("GET / HTTP/1.1\r\n\r\n")).status, Status::Error);
    const auto again = feedAll(parser, QByteArrayLiteral("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    QCOMPARE(again.status, Status::Error);
    QCOMPARE(again.consumed, qsizetype {0});
    QCOMPARE(parser.errorKind(), ErrorKind::BadRequest);
}

QTEST_APPLESS_MAIN(TestRequestParser)
#include "testrequestparser.moc"
