#pragma once

#include "request.h"
#include "responsewriter.h"

#include <memory>

namespace Gateway::Http {

// Work in progress for one request. Destroying it must cancel that work (for example
// the upstream transfer), which is how a client disconnect cancels the upstream.
class Exchange {
public:
    virtual ~Exchange() = default;
};

// Implemented by whoever serves requests (the proxy, the simulator). One instance per
// worker thread; it is only ever called on that thread.
class RequestHandler {
public:
    virtual ~RequestHandler() = default;

    // Returns the in-flight work if the response is not finished yet. The writer stays
    // valid as long as the returned Exchange lives; the Exchange is destroyed after
    // finish()/abort() or when the client goes away, whichever is first.
    virtual std::unique_ptr<Exchange> handle(Request &&request, ResponseWriter &writer) = 0;
};

} // namespace Gateway::Http
