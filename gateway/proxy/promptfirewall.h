#pragma once

#include "messagetextscanner.h"

#include <QByteArray>

#include <cstdint>
#include <vector>

namespace Gateway::Runtime {
struct RouteFirewall;
}

namespace Gateway::Proxy {

// What a route's prompt firewall decided about one request.
struct FirewallVerdict {
    bool blocked = false;
    int blockingRule = -1;       // the first rule that matched, when blocked
    std::uint64_t redacted = 0;  // rules whose matches were replaced (bit per rule)
};

// Applies a route's firewall to the message text of a request: with `block`, reports the
// first rule (in order) matching any text; with `redact`, replaces the matches in `body`
// (each changed string re-encoded as JSON in place, the rest of the body unchanged).
// Counts each decision in the rule's counter.
FirewallVerdict applyFirewall(const Runtime::RouteFirewall &firewall, const std::vector<MessageText> &texts, QByteArray &body);

} // namespace Gateway::Proxy
