// Inbound HTTP/1.x request parsing (Gateway::Http::RequestParser), the gateway's first
// contact with untrusted bytes. Besides memory errors it checks two properties:
// - progress: a feed that needs more bytes has consumed everything it was given (a parser
//   that kept bytes back without an error would stall the connection forever);
// - chunking does not matter: the bytes in one piece and cut in two at a fuzzer-chosen
//   point give the same requests, in the same order, and the same error.
#include "fuzzinput.h"

#include "http/requestparser.h"

#include <QByteArray>

#include <vector>

namespace {

using Gateway::Http::Request;
using Gateway::Http::RequestParser;

constexpr qint64 MAX_BODY = 64 * 1024;
constexpr qint64 MAX_HEADERS = 8 * 1024;

// What a connection would see: the requests it dispatches, then how it ends.
struct Transcript {
    std::vector<QByteArray> requests; // method, path, query, headers and body, flattened
    RequestParser::ErrorKind error = RequestParser::ErrorKind::None;
    bool operator==(const Transcript &) const = default;
};

QByteArray flatten(const Request &request)
{
    QByteArray out = request.method + ' ' + request.path + '?' + request.query + ' ' +
                     QByteArray::number(request.versionMinor) + (request.keepAlive ? " keep" : " close") + '\n';
    for (const auto &header : request.headers) {
        out += header.name + ": " + header.value + '\n';
    }
    return out + '\n' + request.body;
}

// Feeds `pieces` in order the way Connection::processInput() does.
Transcript drive(const std::vector<QByteArrayView> &pieces)
{
    RequestParser parser {MAX_BODY, MAX_HEADERS};
    Transcript transcript;
    QByteArray input;
    for (const QByteArrayView piece : pieces) {
        input.append(piece);
        while (!input.isEmpty()) {
            const auto result = parser.feed(input.constData(), input.size());
            if (result.consumed < 0 || result.consumed > input.size()) {
                Fuzz::fail("consumed outside the input");
            }
            input.remove(0, result.consumed);
            if (result.status == RequestParser::Status::Error) {
                transcript.error = parser.errorKind();
                if (transcript.error == RequestParser::ErrorKind::None) {
                    Fuzz::fail("error status without an error kind");
                }
                return transcript;
            }
            if (result.status == RequestParser::Status::Complete) {
                const Request request = parser.takeRequest();
                if (request.body.size() > MAX_BODY) {
                    Fuzz::fail("body beyond the limit");
                }
                transcript.requests.push_back(flatten(request));
                continue;
            }
            if (!input.isEmpty()) {
                Fuzz::fail("needs more bytes but kept some back");
            }
        }
    }
    return transcript;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    const Fuzz::SplitInput input = Fuzz::splitInput(data, size);
    const Transcript whole = drive({input.payload});
    const Transcript cut = drive({input.payload.first(input.cut), input.payload.sliced(input.cut)});
    if (!(whole == cut)) {
        Fuzz::fail("the same bytes cut in two parse differently");
    }
    return 0;
}
