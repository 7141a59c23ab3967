#include "upstreamrefusal.h"

#include <initializer_list>

namespace Gateway::Proxy {

namespace {

bool containsAny(QByteArrayView body, std::initializer_list<const char *> needles)
{
    for (const char *needle : needles) {
        if (body.contains(QByteArrayView {needle})) {
            return true;
        }
    }
    return false;
}

} // namespace

UpstreamRefusal classifyRefusal(QByteArrayView errorBody)
{
    // Codes first (stable), then the phrases providers put in messages.
    if (containsAny(errorBody, {"context_length_exceeded", "maximum context length", "context window",
                                "prompt is too long", "too many tokens", "exceeds the model's maximum"})) {
        return UpstreamRefusal::ContextLength;
    }
    if (containsAny(errorBody, {"content_filter", "content_policy_violation", "content management policy"})) {
        return UpstreamRefusal::ContentFilter;
    }
    return UpstreamRefusal::Other;
}

} // namespace Gateway::Proxy
