#pragma once

#include "inspectedrequest.h"
#include "runtime/endpoint.h"
#include "util/expected.h"

#include <QByteArray>

#include <cstddef>
#include <memory>

namespace Gateway::Proxy {

struct InspectionError {
    QByteArray message; // names the field: "'messages' must be a non-empty array"
    QByteArray code;    // "invalid_json", "missing_field", "invalid_field"
    QByteArray param;   // the offending field, OpenAI's error.param
};

// Extracts routing facts from a request body with simdjson's On-Demand API: one pass,
// no DOM, unvisited values skipped. Holds a reusable parser, so one per worker thread.
class RequestInspector final {
public:
    RequestInspector();
    ~RequestInspector();
    RequestInspector(const RequestInspector &) = delete;
    RequestInspector &operator=(const RequestInspector &) = delete;

    // Rules look at the start of a message; a bound keeps a pasted document from costing
    // a copy (and a regex scan) of megabytes.
    static constexpr std::size_t MAX_CAPTURED_TEXT = 16 * 1024;
    // Request bodies nesting arrays and objects deeper than this are refused (400), as
    // simdjson's DOM parser would by default: no real request comes near it, and an
    // upstream's parser may recurse on it.
    static constexpr int MAX_NESTING = 1024;

    // captureLastUserMessage: also copy the last user message's text (bounded), which
    // only conditional rules read, so requests pay for the copy only when one exists.
    // promptBlockChars > 0: also hash the rendered prompt (system prompt, then each
    // message's role and text, in order) in blocks of that many characters, for
    // prefix-locality routing (InspectedRequest::promptBlocks); 0 skips that work.
    Expected<InspectedRequest, InspectionError> inspect(Runtime::Endpoint endpoint, const QByteArray &body,
                                                        bool captureLastUserMessage = false, int promptBlockChars = 0);

    // Token usage in a complete JSON response or SSE payload: OpenAI "usage" with
    // prompt_tokens/completion_tokens, or Anthropic input_tokens/output_tokens (at the
    // top level or under "message"). Returns false if no usage object is present.
    // Cached prompt tokens: OpenAI prompt_tokens_details.cached_tokens (already part of
    // prompt_tokens); Anthropic cache_read_input_tokens and cache_creation_input_tokens,
    // which its input_tokens does not include, so they are added to `input` here and
    // every format reports the whole prompt in `input`.
    struct Usage {
        qint64 input = -1;
        qint64 output = -1;
        qint64 cachedInput = -1; // part of input billed at the cached rate; -1 = not reported
        bool choicesEmpty = false; // an OpenAI chunk with "choices":[] (usage-only)
    };
    bool extractUsage(QByteArrayView json, Usage &usage);

    // The prompt text exactly as prefix hashing read it in the last inspect() call made
    // with promptBlockChars > 0: the system prompt, then each message's role and text
    // strings, concatenated. Simulated GPU servers render prompts with it, so their KV
    // blocks are the blocks the gateway hashes.
    QByteArray lastRenderedPrompt() const;

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

} // namespace Gateway::Proxy
