#pragma once

#include <QByteArray>

namespace Gateway::Routing {

// What a policy may know about a request: extracted once on the hot path from the
// body and headers, never the body itself.
struct RequestSummary {
    QByteArray model;
    int estimatedPromptTokens = 0;
    int maxTokens = -1; // -1 = not given
    QByteArray sessionKey;
    int priority = 0;
    bool stream = false;
};

} // namespace Gateway::Routing
