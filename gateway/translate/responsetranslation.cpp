#include "responsetranslation.h"

#include "domaccess.h"
#include "fieldmapping.h"
#include "jsonbuilder.h"
#include "proxy/errorresponse.h"

namespace Gateway::Translate {

namespace {

using Dom::Array;
using Dom::Element;
using Dom::Object;

constexpr qsizetype MAX_ERROR_MESSAGE_BYTES = 2000;

} // namespace

Expected<QByteArray, QByteArray> anthropicResponseFromOpenAi(QByteArrayView body)
{
    Element document;
    Object root;
    if (!Dom::parse(body, document) || document.get_object().get(root) != simdjson::SUCCESS) {
        return Unexpected {QByteArray("the upstream answer is not a JSON object")};
    }
    Array choices;
    Object choice;
    Object message;
    if (!Dom::memberArray(root, "choices", choices) || choices.begin() == choices.end() ||
        (*choices.begin()).get_object().get(choice) != simdjson::SUCCESS || !Dom::memberObject(choice, "message", message)) {
        return Unexpected {QByteArray("the upstream answer has no choices[0].message")};
    }
    QByteArray out;
    out.reserve(body.size() + 128);
    JsonBuilder json {out};
    json.beginObject().member("id", Dom::string(root, "id")).member("type", "message").member("role", "assistant");
    json.member("model", Dom::string(root, "model")).key("content").beginArray();
    std::string_view text = Dom::string(message, "content");
    if (text.empty()) {
        text = Dom::string(message, "refusal");
    }
    if (!text.empty()) {
        json.beginObject().member("type", "text").member("text", text).endObject();
    }
    Array calls;
    if (Dom::memberArray(message, "tool_calls", calls)) {
        for (Element call : calls) {
            Object object;
            Object function;
            if (call.get_object().get(object) != simdjson::SUCCESS || !Dom::memberObject(object, "function", function)) {
                continue;
            }
            json.beginObject().member("type", "tool_use").member("id", Dom::string(object, "id"));
            json.member("name", Dom::string(function, "name")).key("input");
            // Arguments that are not an object's JSON text (a model's mistake) arrive as {}.
            Element input;
            const std::string_view arguments = Dom::string(function, "arguments");
            if (!arguments.empty() && Dom::parseEmbedded(Dom::view(arguments), input) && input.is_object()) {
                json.raw(Dom::json(input));
            } else {
                json.raw(QByteArrayView {"{}"});
            }
            json.endObject();
        }
    }
    json.endArray();
    const std::string_view finish = Dom::string(choice, "finish_reason");
    json.key("stop_reason");
    if (finish.empty()) {
        json.null();
    } else {
        json.string(anthropicStopReason(finish));
    }
    json.key("stop_sequence").null();
    TokenUsage usage;
    Object usageObject;
    if (Dom::memberObject(root, "usage", usageObject)) {
        readOpenAiUsage(usageObject, usage);
    }
    json.key("usage");
    writeAnthropicUsage(json, usage);
    json.endObject();
    return out;
}

Expected<QByteArray, QByteArray> openAiResponseFromAnthropic(QByteArrayView body, qint64 created)
{
    Element document;
    Object root;
    if (!Dom::parse(body, document) || document.get_object().get(root) != simdjson::SUCCESS) {
        return Unexpected {QByteArray("the upstream answer is not a JSON object")};
    }
    Array content;
    if (!Dom::memberArray(root, "content", content)) {
        return Unexpected {QByteArray("the upstream answer has no content array")};
    }
    QByteArray text;
    QByteArray toolCalls;
    for (Element block : content) {
        Object object;
        if (block.get_object().get(object) != simdjson::SUCCESS) {
            continue;
        }
        const std::string_view type = Dom::string(object, "type");
        if (type == "text") {
            text += Dom::bytes(Dom::string(object, "text"));
        } else if (type == "tool_use") {
            appendOpenAiToolCall(toolCalls, object);
        }
    }
    QByteArray out;
    out.reserve(body.size() + 160);
    JsonBuilder json {out};
    json.beginObject().member("id", Dom::string(root, "id")).member("object", "chat.completion");
    json.key("created").number(created).member("model", Dom::string(root, "model"));
    json.key("choices").beginArray().beginObject().key("index").number(0);
    json.key("message").beginObject().member("role", "assistant").key("content");
    if (text.isEmpty() && !toolCalls.isEmpty()) {
        json.null();
    } else {
        json.string(QByteArrayView {text});
    }
    if (!toolCalls.isEmpty()) {
        json.key("tool_calls").raw(QByteArray('[' + toolCalls + ']'));
    }
    json.key("refusal").null().endObject();
    json.key("logprobs").null();
    const std::string_view stop = Dom::string(root, "stop_reason");
    json.key("finish_reason");
    if (stop.empty()) {
        json.null();
    } else {
        json.string(openAiFinishReason(stop));
    }
    json.endObject().endArray();
    TokenUsage usage;
    Object usageObject;
    if (Dom::memberObject(root, "usage", usageObject)) {
        readAnthropicUsage(usageObject, usage);
    }
    json.key("usage");
    writeOpenAiUsage(json, usage);
    json.endObject();
    return out;
}

TranslatedError translateErrorResponse(Config::WireFormat upstream, Config::WireFormat client, int status,
                                       QByteArrayView body)
{
    Proxy::ErrorInfo error;
    error.status = status;
    Element document;
    Object root;
    Object inner;
    if (Dom::parse(body, document) && document.get_object().get(root) == simdjson::SUCCESS) {
        if (Dom::memberObject(root, "error", inner)) {
            // Both formats nest the explanation under "error".
            error.message = Dom::bytes(Dom::string(inner, "message"));
            const std::string_view type = Dom::string(inner, "type");
            const std::string_view code = Dom::string(inner, "code");
            error.code = Dom::bytes(upstream == Config::WireFormat::Anthropic ? type : (code.empty() ? type : code));
            error.param = Dom::bytes(Dom::string(inner, "param"));
        } else {
            // vLLM and others: {"message": ...} or {"detail": ...}; some send {"error": "text"}.
            error.message = Dom::bytes(Dom::string(root, "message", Dom::string(root, "detail", Dom::string(root, "error"))));
        }
    }
    if (error.message.isEmpty()) {
        // Not JSON (an HTML page, a proxy's text): its words, as valid UTF-8 so the
        // client's JSON parser takes them (invalid sequences become U+FFFD).
        const QByteArrayView start = body.first(std::min(body.size(), MAX_ERROR_MESSAGE_BYTES));
        error.message = QString::fromUtf8(start).toUtf8().simplified();
    }
    if (error.message.isEmpty()) {
        error.message = "the upstream answered " + QByteArray::number(status);
    }
    if (client == Config::WireFormat::OpenAi && status == 529) {
        error.status = 503; // overloaded: an OpenAI SDK knows 503 as retryable
    }
    const Proxy::ErrorShape shape = client == Config::WireFormat::Anthropic ? Proxy::ErrorShape::Anthropic : Proxy::ErrorShape::OpenAi;
    return {error.status, Proxy::errorBody(shape, error)};
}

} // namespace Gateway::Translate
