#pragma once

#include <QByteArrayView>

namespace Gateway::Upstream {

// ASCII case-insensitive equality with a lower-case literal; sizes first, as most
// comparisons on the hot path fail on the size alone. Inline: called a few dozen times
// per response head.
inline bool equalsIgnoringCase(QByteArrayView text, QByteArrayView lower)
{
    if (text.size() != lower.size()) {
        return false;
    }
    for (qsizetype i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c >= 'A' && c <= 'Z') {
            c = static_cast<char>(c + ('a' - 'A'));
        }
        if (c != lower[i]) {
            return false;
        }
    }
    return true;
}

// Upstream response headers the gateway acts on: the body's type, what providers say
// about rate limits, and the session an MCP server opened. The rest are not copied (a few allocations per response saved).
bool isKeptResponseHeader(QByteArrayView name);

} // namespace Gateway::Upstream
