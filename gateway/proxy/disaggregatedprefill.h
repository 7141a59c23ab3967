#pragma once

#include "attemptplanner.h"
#include "attemptrun.h"
#include "metrics/errorclass.h"
#include "runtime/backendmonitor.h"
#include "upstream/curlmulti.h"

#include <QByteArray>

#include <functional>
#include <memory>
#include <optional>

namespace Gateway::Routing {
class Rng;
}

namespace Gateway::Proxy {

// The prefill step of a disaggregated request (routes with `pool: prefill` targets): one
// non-streamed request to a prefill server with max_tokens 1 and `kv_transfer_params`
// asking for a remote decode (kvtransferbody.h). Its answer's `kv_transfer_params` let
// the decode server pull the prompt's KV blocks instead of prefilling them. It owns its
// transfer and reports to the prefill backend's monitor, key pool and metrics like any
// attempt; the exchange only learns whether it got the parameters. Destroying it
// abandons the transfer (not held against the backend).
class DisaggregatedPrefill final : private Upstream::TransferObserver {
public:
    // Called once on the worker thread when the transfer ended; must not destroy this.
    using Completed = std::function<void()>;

    DisaggregatedPrefill(const Runtime::RouteTable &table, PlannedAttempt attempt, int promptTokens, Completed completed);
    ~DisaggregatedPrefill() override;
    DisaggregatedPrefill(const DisaggregatedPrefill &) = delete;
    DisaggregatedPrefill &operator=(const DisaggregatedPrefill &) = delete;

    // The backend's circuit and its provider's keys: false when it cannot take the step
    // now (circuit open, probe slots taken, every key cooling down).
    bool admit(Routing::Rng &rng, qint64 nowMs);
    int key() const { return m_run.key; }
    const PlannedAttempt &attempt() const { return m_attempt; }
    // `request` is the prefill request for the admitted key (body from prefillRequestBody).
    void start(Upstream::CurlMulti &curl, Upstream::UpstreamRequest &&request);

    // After completion: the decode step's parameters, or nullopt when the step failed.
    const std::optional<QByteArray> &kvTransferParams() const { return m_params; }
    // Why there are none: "503", "connect_error", "no kv_transfer_params", ...
    const QByteArray &failure() const { return m_failure; }
    double durationMs() const { return m_durationMs; }
    int status() const { return m_status; } // the prefill server's HTTP status; 0 = none

private:
    void onResponseHead(int status, const Http::HeaderList &headers) override;
    bool onResponseData(QByteArrayView data) override;
    void onComplete(const Upstream::TransferResult &result) override;
    // Reports the attempt to the backend's stats, monitor and key pool.
    void settle(bool failed, bool countsAgainstBackend, QByteArrayView reason);
    Runtime::BackendMonitor::TokenLoad tokenLoad() const;
    void countError(Metrics::ErrorClass errorClass);

    const Runtime::RouteTable &m_table;
    PlannedAttempt m_attempt;
    int m_promptTokens = 0;
    Completed m_completed;
    AttemptRun m_run;
    bool m_admitted = false;
    bool m_started = false;
    std::unique_ptr<Upstream::Transfer> m_transfer;
    int m_status = 0;
    QByteArray m_body;
    std::optional<QByteArray> m_params;
    QByteArray m_failure;
    double m_durationMs = -1;
};

} // namespace Gateway::Proxy
