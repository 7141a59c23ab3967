#pragma once

#include <QUrl>
#include <QtGlobal>

namespace Gateway::Gpu {

// One engine to poll: the backend whose EngineSignals it feeds and its `metrics_url`.
struct ScrapeTarget {
    int backendId = -1;
    QUrl url;
};

// Polling parameters. Zero means "derive from the interval".
struct ScrapeSettings {
    static constexpr qint64 DEFAULT_INTERVAL_MS = 250;
    static constexpr qint64 MIN_INTERVAL_MS = 10;     // below this the scrape itself dominates
    static constexpr qint64 MAX_TIMEOUT_MS = 2000;
    static constexpr qint64 TIMEOUT_INTERVALS = 4;
    static constexpr qint64 MAX_BODY_BYTES = 16 * 1024 * 1024; // vLLM with many models stays far below

    qint64 intervalMs = DEFAULT_INTERVAL_MS;
    qint64 timeoutMs = 0;    // 0: min(2 s, 4 x interval)
    qint64 staleAfterMs = 0; // 0: max(3 x interval, 1 s), see EngineSignalsTracker
};

// The settings with the interval clamped and every zero replaced by its derived value.
ScrapeSettings resolveScrapeSettings(const ScrapeSettings &settings);

} // namespace Gateway::Gpu
