#pragma once

#include "config/policy.h"
#include "util/expected.h"

#include <QByteArray>
#include <QByteArrayView>

namespace Gateway::Translate {

// A complete (non-streamed) OpenAI chat.completion as an Anthropic message: text and
// tool calls as blocks, finish_reason as stop_reason, usage in Anthropic's terms. The
// error is a description for a 502 (the upstream's answer was not what its API promises).
Expected<QByteArray, QByteArray> anthropicResponseFromOpenAi(QByteArrayView body);

// A complete Anthropic message as an OpenAI chat.completion stamped `created` (seconds
// since the epoch): text blocks joined, tool_use blocks as tool_calls, thinking dropped.
Expected<QByteArray, QByteArray> openAiResponseFromAnthropic(QByteArrayView body, qint64 created);

// An upstream error answer in the client's format, with a status the client's SDK knows
// (Anthropic's 529 overloaded is a 503 for OpenAI clients).
struct TranslatedError {
    int status = 502;
    QByteArray body;
};
TranslatedError translateErrorResponse(Config::WireFormat upstream, Config::WireFormat client, int status,
                                       QByteArrayView body);

} // namespace Gateway::Translate
