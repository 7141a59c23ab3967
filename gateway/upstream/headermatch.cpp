#include "headermatch.h"

namespace Gateway::Upstream {

namespace {

bool startsWithIgnoringCase(QByteArrayView text, QByteArrayView lowerPrefix)
{
    return text.size() > lowerPrefix.size() && equalsIgnoringCase(text.first(lowerPrefix.size()), lowerPrefix);
}

} // namespace

bool isKeptResponseHeader(QByteArrayView name)
{
    return equalsIgnoringCase(name, "content-type") || equalsIgnoringCase(name, "retry-after") ||
           equalsIgnoringCase(name, "mcp-session-id") ||
           startsWithIgnoringCase(name, "x-ratelimit-") || startsWithIgnoringCase(name, "anthropic-ratelimit-");
}

} // namespace Gateway::Upstream
