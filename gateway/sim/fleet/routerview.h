#pragma once

#include "servermodel.h"
#include "simtime.h"

#include "routing/backendsnapshot.h"
#include "routing/prefillspeed.h"

#include <cstdint>
#include <optional>
#include <vector>

namespace Gateway::Sim::Fleet {

// The token load one request adds to its backend, as the gateway accounts it
// (Runtime::BackendMonitor): prompt + expected output in total, split into the prompt
// tokens the router believes uncached (prefill work, until the first token) and the
// expected output (decode work, until completion).
struct RequestLoad {
    std::int64_t expected = 0;
    std::int64_t prefill = 0;
    std::int64_t decode = 0;
};

// What the router knows about the fleet, exactly what a gateway would know:
// (a) its own in-flight counters, updated at dispatch, first token and completion;
// (b) each engine's /metrics as of the last scrape. Scrapes are staggered evenly over the
//     interval (backend i at phase + i/N of it), as independent scrape loops drift apart.
// It builds the BackendSnapshot a policy ranks over. One per gateway replica: replicas
// share no state, so each counts only what it sent and scrapes on its own schedule.
class RouterView final {
public:
    // `phase`: when this router's first scrape happens (replicas start at different times).
    RouterView(int backends, SimTime scrapeInterval, SimTime phase = 0);

    // The ticket goes back with the request's first token, which teaches the backend's
    // prefill speed (Routing::PrefillSpeed) as the gateway's BackendMonitor learns it.
    Routing::PrefillTicket dispatched(int backend, const RequestLoad &load, SimTime now);
    void prefillDone(int backend, const RequestLoad &load, const Routing::PrefillTicket &ticket, SimTime now);
    void finished(int backend, const RequestLoad &load, bool prefillPending);

    // When the next scrape is due (nullopt with interval 0: the driver then calls
    // scrape() for every backend right before each decision, "oracle-fresh").
    std::optional<SimTime> nextScrape() const;
    // Backends whose scrape is due at `now`, in order; advances their schedule.
    std::vector<int> takeDueScrapes(SimTime now);
    void scrape(int backend, const ServerStatus &status, SimTime now);
    // Restarts of the backend's engine seen in its scrapes (its counters went back).
    std::int64_t restartsOf(int backend) const
    {
        return m_snapshot.backends[static_cast<std::size_t>(backend)].engine.restarts;
    }

    // The snapshot as of `now` (engine signals carry their age).
    const Routing::BackendSnapshot &snapshot(SimTime now);

private:
    struct Scraped {
        SimTime at = -1;
        std::int64_t queries = 0;
        std::int64_t hits = 0;
    };

    Routing::BackendSnapshot m_snapshot;
    std::vector<Scraped> m_scraped;
    std::vector<Routing::PrefillSpeed> m_prefillSpeeds;
    std::vector<SimTime> m_lastPrefillSent;
    std::vector<SimTime> m_nextScrape;
    SimTime m_interval;
};

} // namespace Gateway::Sim::Fleet
