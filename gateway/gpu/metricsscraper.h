#pragma once

#include "gpu/enginesignalboard.h"
#include "gpu/scrapesettings.h"
#include "routing/backendsnapshot.h"

#include <QObject>

#include <memory>
#include <optional>
#include <vector>

class QThread;

namespace Gateway::Gpu {

class ScrapeWorker;

// Polls the Prometheus /metrics of self-hosted inference engines (the targets'
// `metrics_url`) on its own thread, off the data plane, and keeps the latest
// EngineSignals of every backend on a board any thread may read.
//
// The thread is owned here and joined in the destructor; the HTTP work (one
// QNetworkAccessManager, http and https) lives on it. Per target: one scrape per
// interval, never two at once, each bounded by the timeout. A target that fails (refused,
// timed out, HTTP error, no engine series) only counts a failure and ages out of
// freshness: signalsFor never reports an error.
//
// Times are steady_clock milliseconds (steadyNowMs(), Runtime::monotonicNowMs()).
class MetricsScraper final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(MetricsScraper)

public:
    explicit MetricsScraper(const ScrapeSettings &settings = {}, QObject *parent = nullptr);
    ~MetricsScraper() override;

    // Both return at once; the worker thread acts on them in call order.
    void start();
    void stop();
    // Replaces the polled set (policies are re-applied live). Unchanged targets keep their
    // history and any scrape in flight; removed or re-pointed ones are dropped.
    void setTargets(std::vector<ScrapeTarget> targets);

    // The resolved settings (derived timeout and staleness bound filled in).
    const ScrapeSettings &settings() const { return m_settings; }

    // Thread-safe; a short critical section.
    Routing::EngineSignals signalsFor(int backendId, qint64 nowMs) const;
    std::optional<ScrapeCounters> countersFor(int backendId) const;
    std::vector<TargetCounters> counters() const;

signals:
    // After each scrape attempt of the backend, success or failure, once signalsFor and
    // the counters reflect it. Delivered on this object's thread.
    void scraped(int backendId);

private:
    // quit(), wait(), delete: the RAII owner of the scraping thread.
    struct ThreadJoiner {
        void operator()(QThread *thread) const;
    };

    const ScrapeSettings m_settings;
    EngineSignalBoard m_board;                      // outlives the worker (declared first)
    std::unique_ptr<QThread, ThreadJoiner> m_thread;
    ScrapeWorker *m_worker = nullptr;               // lives on m_thread, deleted there when it finishes
};

} // namespace Gateway::Gpu
