#pragma once

#include "gpu/scrapesettings.h"

#include <QByteArray>
#include <QObject>
#include <QPointer>
#include <QTimer>

#include <memory>
#include <vector>

class QNetworkAccessManager;
class QNetworkReply;

namespace Gateway::Gpu {

class EngineSignalBoard;

// The polling loop, living on MetricsScraper's thread: every interval it sends one GET
// per target that has no scrape in flight (so scrapes of one target never overlap),
// parses each answer and writes the result to the board. Everything here runs on that
// thread; other threads reach it only through queued calls.
class ScrapeWorker final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ScrapeWorker)

public:
    // `settings` must be resolved (resolveScrapeSettings); `board` must outlive the worker.
    ScrapeWorker(const ScrapeSettings &settings, EngineSignalBoard &board);
    ~ScrapeWorker() override;

    void start(); // scrapes at once, then every interval
    void stop();  // abandons scrapes in flight without reporting them
    void setTargets(const std::vector<ScrapeTarget> &targets);

signals:
    // After every finished attempt, once the board holds its result.
    void scraped(int backendId);

private:
    struct Target {
        int backendId = -1;
        QUrl url;
        QPointer<QNetworkReply> reply; // the scrape in flight, if any
        QTimer deadline;               // whole-scrape timeout of the reply in flight
        QByteArray abortReason;        // why we aborted the reply ourselves
    };

    void tick();
    void scrape(Target &target);
    void finish(Target &target);
    void abandon(Target &target);

    const ScrapeSettings m_settings;
    EngineSignalBoard &m_board;
    QTimer m_ticker;
    QNetworkAccessManager *m_network = nullptr; // created on first start, on the worker thread
    std::vector<std::unique_ptr<Target>> m_targets;
};

} // namespace Gateway::Gpu
