// Format translation (gateway/translate), which reads client bodies and upstream answers
// that the gateway does not control. Properties, both directions:
// - requests and complete answers either translate to valid JSON or are refused, and an
//   OpenAI request that translates to Anthropic translates back again;
// - error bodies always become valid JSON;
// - a stream translates to the same client events however it was cut into reads, and
//   every event the client gets carries valid JSON (or [DONE]).
#include "fuzzinput.h"

#include "proxy/sseeventsplitter.h"
#include "translate/requesttranslation.h"
#include "translate/responsetranslation.h"
#include "translate/streamtranslator.h"

#include <simdjson.h>

#include <QByteArray>

namespace {

using Gateway::Config::WireFormat;
using namespace Gateway::Translate;

bool isJson(QByteArrayView text)
{
    static simdjson::dom::parser parser;
    simdjson::dom::element element;
    return parser.parse(text.data(), static_cast<std::size_t>(text.size())).get(element) == simdjson::SUCCESS;
}

void requireJson(QByteArrayView text, const char *what)
{
    if (!isJson(text)) {
        Fuzz::fail(what);
    }
}

QByteArray translateStream(WireFormat upstream, WireFormat client, const std::vector<QByteArrayView> &reads)
{
    StreamOptions options;
    options.includeUsage = true;
    options.created = 1;
    auto translator = makeStreamTranslator(upstream, client, options);
    Gateway::Proxy::SseEventSplitter splitter;
    QByteArray out;
    for (const QByteArrayView read : reads) {
        splitter.feed(read, [&](QByteArrayView event) { translator->translateEvent(event, out); });
    }
    translator->finish(out);
    return out;
}

void checkStream(WireFormat upstream, WireFormat client, const Fuzz::SplitInput &input)
{
    const QByteArray whole = translateStream(upstream, client, {input.payload});
    const QByteArray cut = translateStream(upstream, client, {input.payload.first(input.cut), input.payload.sliced(input.cut)});
    if (whole != cut) {
        Fuzz::fail("the same stream cut in two translated differently");
    }
    Gateway::Proxy::SseEventSplitter splitter;
    splitter.feed(whole, [](QByteArrayView event) {
        const auto fields = Gateway::Proxy::parseSseEvent(event);
        if (fields.data != "[DONE]") {
            requireJson(fields.data, "a translated event is not JSON");
        }
    });
    if (!splitter.takeRemainder().isEmpty()) {
        Fuzz::fail("the translated stream ends inside an event");
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    const Fuzz::SplitInput input = Fuzz::splitInput(data, size);
    const QByteArrayView payload = input.payload;

    if (auto anthropic = anthropicRequestFromOpenAi(payload, "target")) {
        requireJson(*anthropic, "an Anthropic request is not JSON");
        auto back = openAiRequestFromAnthropic(*anthropic, "target");
        if (!back) {
            Fuzz::fail("a translated OpenAI request does not translate back");
        }
        requireJson(*back, "a round-tripped request is not JSON");
    }
    if (auto openAi = openAiRequestFromAnthropic(payload, "target")) {
        requireJson(*openAi, "an OpenAI request is not JSON");
    }
    if (auto answer = anthropicResponseFromOpenAi(payload)) {
        requireJson(*answer, "an Anthropic answer is not JSON");
    }
    if (auto answer = openAiResponseFromAnthropic(payload, 1)) {
        requireJson(*answer, "an OpenAI answer is not JSON");
    }
    requireJson(translateErrorResponse(WireFormat::OpenAi, WireFormat::Anthropic, 400, payload).body, "an error is not JSON");
    requireJson(translateErrorResponse(WireFormat::Anthropic, WireFormat::OpenAi, 529, payload).body, "an error is not JSON");

    checkStream(WireFormat::OpenAi, WireFormat::Anthropic, input);
    checkStream(WireFormat::Anthropic, WireFormat::OpenAi, input);
    return 0;
}
