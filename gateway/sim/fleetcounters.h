#pragma once

#include <atomic>

namespace Gateway::Sim {

// What a FleetServer has served, readable from any thread; written by its worker thread.
struct FleetCounters {
    std::atomic<int> requestsReceived {0};  // inference requests that reached the engine
    std::atomic<int> requestsCompleted {0}; // answered to the last token
    std::atomic<int> requestsCancelled {0}; // the client went away first; aborted in the engine
    std::atomic<int> requestsRejected {0};  // refused: longer than the whole KV cache, or malformed
    std::atomic<int> metricsScrapes {0};
};

} // namespace Gateway::Sim
