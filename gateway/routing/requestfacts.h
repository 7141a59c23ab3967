#pragma once

#include <QByteArrayView>
#include <QStringView>

namespace Gateway::Routing {

// What conditional routing rules may ask about a request, gathered once on the hot path.
// Views only: the caller keeps the request alive while rules are evaluated, and nothing
// here allocates.
struct RequestFacts {
    // Returns the value of the first header with this lower-case name; a null view when
    // the request has none. A plain function pointer (no std::function) keeps building
    // the facts free of allocations.
    using HeaderLookup = QByteArrayView (*)(const void *context, QByteArrayView lowerName);

    QStringView virtualKey; // name of the client's virtual key; empty = none
    HeaderLookup headerLookup = nullptr;
    const void *headerContext = nullptr;
    int estimatedPromptTokens = 0;
    int maxTokens = -1; // -1 = not given
    bool hasImages = false;
    bool hasTools = false;
    QByteArrayView lastUserMessage; // UTF-8 text (bounded by the inspector); empty = none

    QByteArrayView header(QByteArrayView lowerName) const
    {
        return headerLookup ? headerLookup(headerContext, lowerName) : QByteArrayView {};
    }
};

} // namespace Gateway::Routing
