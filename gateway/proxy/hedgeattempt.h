#pragma once

#include "attemptrun.h"
#include "upstream/curlmulti.h"

#include <QByteArray>

#include <functional>
#include <memory>

namespace Gateway::Proxy {

// The backup of a hedged (non-streaming) request: a second upstream attempt started when
// the first is slower than the route's latency percentile. It only collects its answer;
// the exchange decides who wins, adopts the winner's answer and cancels the loser.
class HedgeAttempt final : private Upstream::TransferObserver {
public:
    // Called once, on the worker thread, when the transfer completed. The callback must not
    // destroy this object (the exchange keeps it until it ends).
    using Completed = std::function<void(HedgeAttempt &)>;

    HedgeAttempt(AttemptRun run, qsizetype maxBodyBytes, Completed completed);
    ~HedgeAttempt() override;
    HedgeAttempt(const HedgeAttempt &) = delete;
    HedgeAttempt &operator=(const HedgeAttempt &) = delete;

    void start(Upstream::CurlMulti &curl, Upstream::UpstreamRequest &&request);
    // Abandons the transfer (the other attempt won, or the client left).
    void cancel();

    bool inFlight() const { return m_transfer != nullptr; }
    AttemptRun &run() { return m_run; }
    int status() const { return m_status; }
    const Http::HeaderList &headers() const { return m_headers; }
    QByteArray &body() { return m_body; }
    const Upstream::TransferResult &result() const { return m_result; }
    bool succeeded() const { return m_result.error == Upstream::TransferError::None && m_status >= 200 && m_status < 300; }

private:
    void onResponseHead(int status, const Http::HeaderList &headers) override;
    bool onResponseData(QByteArrayView data) override;
    void onComplete(const Upstream::TransferResult &result) override;

    AttemptRun m_run;
    qsizetype m_maxBodyBytes;
    Completed m_completed;
    std::unique_ptr<Upstream::Transfer> m_transfer;
    int m_status = 0;
    Http::HeaderList m_headers;
    QByteArray m_body;
    Upstream::TransferResult m_result;
};

} // namespace Gateway::Proxy
