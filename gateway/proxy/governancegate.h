#pragma once

#include "errorresponse.h"
#include "inspectedrequest.h"
#include "proxyenvironment.h"

#include "governance/limitstore.h"
#include "governance/price.h"

#include <QByteArray>

namespace Gateway::Runtime {
struct RouteRuntime;
}

namespace Gateway::Proxy {

// The data plane's side of governance: estimates a request, reserves it against its
// key's and team's limits (journaled), shapes a refusal as the client's 429, and at the
// end settles the reservation with what was really used (journaled, counted, alerting
// on soft limits). Holds only references; one per worker.
class GovernanceGate final {
public:
    explicit GovernanceGate(const ProxyEnvironment &environment) : m_environment {environment} {}

    struct Estimate {
        qint64 tokens = 0;
        qint64 costNanos = 0;
    };
    // Prompt estimate + max_tokens (or the route's learned completion size), priced at
    // the route's dearest target.
    static Estimate estimate(const Runtime::RouteRuntime &route, const InspectedRequest &inspected);

    // True when reserved (or governance is off: `out` then stays inactive). False: the
    // request is refused and `error` / `retryAfter` hold the 429 to send.
    bool reserve(const Governance::Subject &subject, const QByteArray &route, const Estimate &estimate,
                 Governance::Reservation &out, ErrorInfo &error, QByteArray &retryAfter) const;

    struct Charge {
        QByteArray route;
        QByteArray backend; // empty when no backend answered
        Governance::Usage usage;
        qint64 costNanos = 0;
        bool estimated = false; // usage not (fully) reported by the provider
    };
    // Replaces the reservation's estimate with `charge` (idempotent).
    void settle(Governance::Reservation &reservation, const Charge &charge) const;

    qint64 nowMs() const;

private:
    const ProxyEnvironment &m_environment;
};

} // namespace Gateway::Proxy
