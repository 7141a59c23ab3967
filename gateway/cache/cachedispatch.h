#pragma once

#include "proxy/proxyexchange.h"

#include <memory>

namespace Gateway::Proxy {
class WorkerContext;
}

namespace Gateway::Cache {

// Where a validated, permitted and reserved request goes next. On a route without a
// cache: a ProxyExchange, as always. On a cached route: the request's cache-control is
// honoured (no-cache: no lookup, the answer is stored; no-store: neither), an exact hit
// is answered at once, a semantic route embeds the prompt first (SemanticLookup), and a
// miss goes upstream with an AnswerCapture that stores the answer. Returns the work in
// progress, or null when the response is already written.
std::unique_ptr<Http::Exchange> startExchange(Proxy::WorkerContext &worker, Proxy::ProxyExchange::Setup &&setup,
                                              Http::ResponseWriter &writer);

} // namespace Gateway::Cache
