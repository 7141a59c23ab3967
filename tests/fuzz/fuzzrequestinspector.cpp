// Request JSON inspection (Gateway::Proxy::RequestInspector, simdjson On-Demand) and the
// targeted body rewrite that follows it on every proxied request. Properties: the ranges
// the inspector reports lie inside the body and hold what they claim (the model string
// with its quotes, the top-level '{'); the captured text respects its bound; and when the
// body is valid JSON, rewriting the model and stream_options yields valid JSON again.
#include "fuzzinput.h"

#include "proxy/bodyrewriter.h"
#include "proxy/requestinspector.h"

#include <simdjson.h>

namespace {

using namespace Gateway::Proxy;
using Gateway::Runtime::Endpoint;

constexpr Endpoint ENDPOINTS[] = {Endpoint::ChatCompletions, Endpoint::Completions, Endpoint::Embeddings,
                                  Endpoint::Messages};

bool validJson(const QByteArray &text, simdjson::dom::parser &parser)
{
    simdjson::dom::element root;
    return parser.parse(text.constData(), static_cast<std::size_t>(text.size())).get(root) == simdjson::SUCCESS;
}

void checkRange(const QByteArray &body, qsizetype begin, qsizetype end, const char *what)
{
    if (begin == -1 && end == -1) {
        return;
    }
    if (begin < 0 || end < begin || end > body.size()) {
        Fuzz::fail(what);
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    if (size == 0) {
        return 0;
    }
    static RequestInspector inspector;
    static simdjson::dom::parser parser;
    const Endpoint endpoint = ENDPOINTS[data[0] % std::size(ENDPOINTS)];
    const bool requestUsage = (data[0] & 0x10) != 0;
    const QByteArray body(reinterpret_cast<const char *>(data + 1), static_cast<qsizetype>(size - 1));

    RequestInspector::Usage usage;
    (void)inspector.extractUsage(body, usage);

    auto inspected = inspector.inspect(endpoint, body, true, 64);
    if (!inspected) {
        if (inspected.error().message.isEmpty() || inspected.error().code.isEmpty()) {
            Fuzz::fail("a refused body without a message or code");
        }
        return 0;
    }
    const InspectedRequest &request = *inspected;
    checkRange(body, request.modelBegin, request.modelEnd, "model range outside the body");
    checkRange(body, request.streamOptionsBegin, request.streamOptionsEnd, "stream_options range outside the body");
    if (request.modelBegin >= 0 &&
        (request.modelEnd - request.modelBegin < 2 || body[request.modelBegin] != '"' || body[request.modelEnd - 1] != '"')) {
        Fuzz::fail("model range is not a quoted string");
    }
    if (request.objectBegin >= 0 && (request.objectBegin >= body.size() || body[request.objectBegin] != '{')) {
        Fuzz::fail("objectBegin is not the top-level '{'");
    }
    if (request.estimatedPromptTokens < 0 ||
        request.lastUserMessage.size() > static_cast<qsizetype>(RequestInspector::MAX_CAPTURED_TEXT)) {
        Fuzz::fail("estimate negative or captured text beyond its bound");
    }
    if (!validJson(body, parser)) {
        return 0; // what the rewrite keeps of a body simdjson rejects is not specified
    }
    const QByteArray upstreamModel = QByteArrayLiteral("fuzz-\"model\\\n");
    const QByteArray rewritten = rewriteBody(body, request, upstreamModel, requestUsage);
    if (!validJson(rewritten, parser)) {
        Fuzz::fail("rewriting a valid JSON body produced invalid JSON");
    }
    return 0;
}
