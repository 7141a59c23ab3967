#pragma once

#include "runtime/backendmonitor.h"

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace Gateway::Proxy {

// One upstream attempt while it runs: which planned attempt it is, and what its outcome
// must be reported against (key, probe slot, timing). The exchange's main attempt and a
// hedge each have one.
struct AttemptRun {
    std::size_t index = 0; // into the exchange's planned attempts
    std::chrono::steady_clock::time_point startedAt;
    int key = -1;          // index into the provider's keys; -1 = none
    bool probe = false;    // a half-open probe of its backend
    bool keyProbe = false; // a half-open probe of its key
    bool inFlight = false;
    bool sawBody = false;
    double ttftMs = -1;    // to the first body byte; -1 = none yet
    // Prompt tokens this attempt still has to prefill upstream (its uncached part),
    // counted in the backend's in-flight prefill load until the first body byte.
    Runtime::BackendMonitor::PendingPrefill prefill;
    int traceAttempt = -1; // its span in the request's trace (tracing/requesttrace.h); -1 = none
};

} // namespace Gateway::Proxy
