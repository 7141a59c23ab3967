#pragma once

#include "translationerror.h"
#include "util/expected.h"

#include <QByteArray>
#include <QByteArrayView>

namespace Gateway::Translate {

// Anthropic requires max_tokens; an OpenAI request without max_tokens or
// max_completion_tokens is sent with this limit (docs/TRANSLATION.md).
constexpr qint64 DEFAULT_ANTHROPIC_MAX_TOKENS = 4096;

// An OpenAI chat completions body as an Anthropic messages body for `upstreamModel`:
// system/developer messages -> system; text and image parts -> blocks; tools,
// tool_choice, assistant tool_calls and tool messages -> tools, tool_choice, tool_use and
// tool_result blocks; max_tokens, temperature, top_p, stop, stream, user. Fields without
// an equivalent are dropped (listed in docs/TRANSLATION.md); content that cannot be
// carried over (audio, files, n > 1) is a TranslationError naming the field.
Expected<QByteArray, TranslationError> anthropicRequestFromOpenAi(QByteArrayView body, QByteArrayView upstreamModel);

// The reverse: an Anthropic messages body as an OpenAI chat completions body. A
// streamed request asks for stream_options.include_usage, so the answer carries usage.
Expected<QByteArray, TranslationError> openAiRequestFromAnthropic(QByteArrayView body, QByteArrayView upstreamModel);

} // namespace Gateway::Translate
