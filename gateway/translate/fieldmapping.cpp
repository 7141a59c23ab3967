#include "fieldmapping.h"

#include <algorithm>

namespace Gateway::Translate {

QByteArrayView anthropicStopReason(std::string_view finishReason)
{
    if (finishReason == "length") {
        return "max_tokens";
    }
    if (finishReason == "tool_calls" || finishReason == "function_call") {
        return "tool_use";
    }
    if (finishReason == "content_filter") {
        return "refusal";
    }
    return "end_turn";
}

QByteArrayView openAiFinishReason(std::string_view stopReason)
{
    if (stopReason == "max_tokens" || stopReason == "model_context_window_exceeded") {
        return "length";
    }
    if (stopReason == "tool_use") {
        return "tool_calls";
    }
    if (stopReason == "refusal") {
        return "content_filter";
    }
    return "stop";
}

void readOpenAiUsage(Dom::Object usage, TokenUsage &out)
{
    out.prompt = Dom::integer(usage, "prompt_tokens", out.prompt);
    out.output = Dom::integer(usage, "completion_tokens", out.output);
    Dom::Object details;
    if (Dom::memberObject(usage, "prompt_tokens_details", details)) {
        out.cachedPrompt = Dom::integer(details, "cached_tokens", out.cachedPrompt);
    }
}

void readAnthropicUsage(Dom::Object usage, TokenUsage &out)
{
    const qint64 input = Dom::integer(usage, "input_tokens");
    const qint64 read = Dom::integer(usage, "cache_read_input_tokens");
    const qint64 created = Dom::integer(usage, "cache_creation_input_tokens");
    if (input >= 0) {
        out.prompt = input + std::max<qint64>(0, read) + std::max<qint64>(0, created);
    }
    if (read >= 0) {
        out.cachedPrompt = read;
    }
    if (created >= 0) {
        out.cacheCreation = created;
    }
    out.output = Dom::integer(usage, "output_tokens", out.output);
}

void writeOpenAiUsage(JsonBuilder &json, const TokenUsage &usage)
{
    const qint64 prompt = std::max<qint64>(0, usage.prompt);
    const qint64 output = std::max<qint64>(0, usage.output);
    json.beginObject().key("prompt_tokens").number(prompt).key("completion_tokens").number(output);
    json.key("total_tokens").number(prompt + output);
    if (usage.cachedPrompt >= 0) {
        json.key("prompt_tokens_details").beginObject().key("cached_tokens").number(usage.cachedPrompt).endObject();
    }
    json.endObject();
}

void writeAnthropicUsage(JsonBuilder &json, const TokenUsage &usage)
{
    const qint64 cached = std::max<qint64>(0, usage.cachedPrompt);
    const qint64 created = std::max<qint64>(0, usage.cacheCreation);
    const qint64 input = std::max<qint64>(0, std::max<qint64>(0, usage.prompt) - cached - created);
    json.beginObject().key("input_tokens").number(input).key("output_tokens").number(std::max<qint64>(0, usage.output));
    json.key("cache_read_input_tokens").number(cached).key("cache_creation_input_tokens").number(created);
    json.endObject();
}

void appendOpenAiToolCall(QByteArray &toolCalls, Dom::Object toolUse)
{
    Dom::Element input;
    const QByteArray arguments = Dom::member(toolUse, "input", input) ? Dom::json(input) : QByteArray("{}");
    toolCalls += toolCalls.isEmpty() ? "" : ",";
    JsonBuilder {toolCalls}
        .beginObject()
        .member("id", Dom::string(toolUse, "id"))
        .member("type", "function")
        .key("function")
        .beginObject()
        .member("name", Dom::string(toolUse, "name"))
        .member("arguments", arguments)
        .endObject()
        .endObject();
}

} // namespace Gateway::Translate
