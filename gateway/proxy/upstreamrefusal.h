#pragma once

#include <QByteArrayView>

namespace Gateway::Proxy {

// Why an upstream refused a request with 400/413/422, where that matters for retrying:
// a context-length refusal may succeed on a target with a larger window, a content-filter
// refusal on another provider; any other refusal would be repeated by every target.
enum class UpstreamRefusal { Other, ContextLength, ContentFilter };

// Reads the provider's error body (OpenAI, Anthropic, vLLM/TGI wording).
UpstreamRefusal classifyRefusal(QByteArrayView errorBody);

} // namespace Gateway::Proxy
