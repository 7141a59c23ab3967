#pragma once

#include "loghistogram.h"
#include "servermodel.h"
#include "simtime.h"

#include <QString>

#include <cstdint>
#include <vector>

namespace Gateway::Sim::Fleet {

enum class RequestFate : std::uint8_t {
    Pending,   // still in flight (only while a run is going on)
    Completed,
    TimedOut,  // the client gave up after FleetConfig::requestTimeout; the server aborted it
    Rejected,  // longer than a server's whole KV cache
};

// What happened to one request in a run.
struct RequestOutcome {
    int backend = -1;
    SimTime arrival = 0;
    SimTime firstToken = -1;
    SimTime finished = -1;
    int outputTokens = 0;
    RequestFate fate = RequestFate::Pending;
    bool disaggregated = false; // prefilled on the prefill pool, then decoded on `backend`
    int replica = 0;            // the gateway replica that routed it (FleetConfig::replicas)
};

// Everything a run observed, before it is reduced to metrics.
struct RunRecord {
    std::vector<RequestOutcome> requests;  // indexed like the workload
    std::vector<ServerStatus> servers;     // each server's totals at the end
    LogHistogram interTokenGaps;           // microseconds, every token after the first
    std::vector<double> decisionMicros;    // wall-clock cost of each routing decision
    SimTime timeout = 0;
};

// SLO of the goodput metric (Dynamo's recipe thresholds): TTFT <= 2 s and the request's
// mean inter-token latency <= 25 ms.
constexpr double GOODPUT_TTFT_SECONDS = 2.0;
constexpr double GOODPUT_ITL_MILLIS = 25.0;

// The metrics of gpu-routers.md section 8.6 for one run.
//
// Latency percentiles cover every request: one that timed out counts with the timeout
// (TTFT too if it never got a first token), so dropping requests cannot make a policy
// look faster. ITL percentiles are over all inter-token gaps actually produced.
// Throughputs count completed requests only, over the makespan (first arrival to last
// completion), so they measure capacity under overload and equal the offered rate below it.
struct RunResult {
    int requests = 0;
    int completed = 0;
    int timeouts = 0;
    int rejected = 0;
    double ttftP50 = 0, ttftP90 = 0, ttftP99 = 0; // seconds
    double itlP50 = 0, itlP99 = 0;                // milliseconds
    double e2eP50 = 0, e2eP99 = 0;                // seconds
    double outputTokensPerSecond = 0;
    double requestsPerSecond = 0;
    double goodputPerSecond = 0; // completed requests meeting the SLO, per second
    double goodputShare = 0;     // the same as a share of all requests
    double hitRate = 0;          // prefix cache hits / queries, tokens (vLLM's definition)
    std::int64_t prefillTokens = 0; // prompt tokens actually computed, fleet-wide
    double prefillSkew = 0;      // max / mean over backends of prefill tokens computed
    double prefillCv = 0;        // coefficient of variation of the same
    double runningSkew = 0;      // max / mean of time-averaged running requests
    double runningCv = 0;
    int peakWaiting = 0;         // deepest waiting queue on any server
    std::int64_t preemptions = 0;
    double decisionP50Us = 0, decisionP99Us = 0; // wall clock, not simulated
    double makespanSeconds = 0;
    double disaggregatedShare = 0; // requests prefilled on a prefill pool (P/D fleets)
    std::vector<double> backendPrefillTokens;
    std::vector<double> backendMeanRunning;
};

RunResult summarize(const RunRecord &record);

} // namespace Gateway::Sim::Fleet
