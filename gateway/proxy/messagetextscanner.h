#pragma once

#include "runtime/endpoint.h"

#include <QByteArray>

#include <memory>
#include <vector>

namespace Gateway::Proxy {

// One string of a request's message text: its unescaped UTF-8 and the byte range of
// its JSON token in the body (quotes included), so it can be replaced in place.
struct MessageText {
    qsizetype begin = -1;
    qsizetype end = -1;
    QByteArray text;
};

// Finds the message text of an inference request, and only that (not model names, tool
// schemas or other members): OpenAI chat `messages[].content` (a string, or the `text`
// of its parts), Anthropic `system` and `messages[].content` (strings or text blocks),
// completions `prompt` and embeddings `input` (a string or strings). For the prompt
// firewall; a worker owns one (its parser is reused).
class MessageTextScanner final {
public:
    MessageTextScanner();
    ~MessageTextScanner();
    MessageTextScanner(const MessageTextScanner &) = delete;
    MessageTextScanner &operator=(const MessageTextScanner &) = delete;

    // The body was validated by RequestInspector; false when it is not JSON after all.
    bool scan(Runtime::Endpoint endpoint, const QByteArray &body, std::vector<MessageText> &out);

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

} // namespace Gateway::Proxy
