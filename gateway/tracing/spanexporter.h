#pragma once

#include "span.h"

#include <QByteArray>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

namespace Gateway::Tracing {

// Takes finished spans from any thread and sends them to an OTLP/HTTP collector in
// batches, on a thread of its own (never a data-plane worker or the GUI thread).
//
// Handing a span over costs one short critical section (a move into a vector); the
// queue is bounded by max_queue_spans, and a span that finds it full is dropped and
// counted rather than waited for. The thread sleeps while nothing is queued, and sends a
// batch export_interval_ms after a span arrives, or at once when a batch's worth waits.
// A failed export (no answer, 429, 502/503/504) is sent again with exponential backoff,
// a bounded number of times, then the batch is dropped and counted. Destruction sends
// what is still queued, within a bound.
class SpanExporter final {
public:
    struct Settings {
        QByteArray endpoint; // OTLP/HTTP traces URL
        std::vector<std::pair<QByteArray, QByteArray>> headers;
        QByteArray serviceName;
        int exportIntervalMs = 1000;
        int maxQueueSpans = 8192;
    };

    SpanExporter();
    ~SpanExporter();
    SpanExporter(const SpanExporter &) = delete;
    SpanExporter &operator=(const SpanExporter &) = delete;

    // Where and how to export from now on; starts the thread on the first call. Any thread.
    void configure(Settings settings);
    // False when the span was dropped (not configured, or the queue is full). Any thread.
    bool submit(Span &&span);

    // Counters behind switchyard_trace_* (docs/METRICS.md).
    quint64 exportedSpans() const { return m_exported.load(std::memory_order_relaxed); }
    quint64 droppedQueueFull() const { return m_droppedQueueFull.load(std::memory_order_relaxed); }
    quint64 droppedExportFailed() const { return m_droppedExportFailed.load(std::memory_order_relaxed); }
    quint64 exportFailures() const { return m_exportFailures.load(std::memory_order_relaxed); }
    void appendPrometheus(QByteArray &out) const;

private:
    void run();
    // Sends one batch, retrying as described above; false when it was given up.
    bool exportBatch(const std::vector<Span> &batch, const Settings &settings, class OtlpPost &post);
    bool pastFlushDeadline() const;

    mutable std::mutex m_mutex;
    std::condition_variable m_wake;
    std::vector<Span> m_queue;          // guarded by m_mutex
    std::optional<Settings> m_settings; // guarded by m_mutex
    bool m_stopping = false;            // guarded by m_mutex
    bool m_failing = false;             // the exporter thread's own: the last export failed
    // Steady-clock time (ns) by which shutdown gives up on what is still queued; 0 while
    // running. Read by the exporting thread without the lock.
    std::atomic<qint64> m_flushDeadlineNs {0};
    std::thread m_thread;

    std::atomic<quint64> m_exported {0};
    std::atomic<quint64> m_droppedQueueFull {0};
    std::atomic<quint64> m_droppedExportFailed {0};
    std::atomic<quint64> m_exportFailures {0};
};

} // namespace Gateway::Tracing
