#include "gpu/scrapeworker.h"

#include "gpu/enginemetrics.h"
#include "gpu/enginesignalboard.h"
#include "gpu/steadyclock.h"

#include <QNetworkAccessManager>
#include <QNetworkProxy>
#include <QNetworkReply>
#include <QNetworkRequest>

#include <algorithm>
#include <chrono>

namespace Gateway::Gpu {

namespace {

// Ask for the classic text format: prometheus_client (vLLM, SGLang) switches to
// OpenMetrics, with exemplars this parser does not read, when the client prefers it.
constexpr char ACCEPT_TEXT_FORMAT[] = "text/plain;version=0.0.4;q=1,*/*;q=0.1";

} // namespace

ScrapeWorker::ScrapeWorker(const ScrapeSettings &settings, EngineSignalBoard &board)
    : m_settings {settings}
    , m_board {board}
    , m_ticker {this}
{
    m_ticker.setInterval(std::chrono::milliseconds {m_settings.intervalMs});
    connect(&m_ticker, &QTimer::timeout, this, &ScrapeWorker::tick);
}

ScrapeWorker::~ScrapeWorker()
{
    for (const std::unique_ptr<Target> &target : m_targets) {
        abandon(*target);
    }
}

void ScrapeWorker::start()
{
    if (!m_network) {
        m_network = new QNetworkAccessManager {this};
        // Engines are polled directly, several times a second: an HTTP proxy picked up
        // from the environment would only add latency and a failure point.
        m_network->setProxy(QNetworkProxy::NoProxy);
    }
    if (m_ticker.isActive()) {
        return;
    }
    m_ticker.start();
    tick();
}

void ScrapeWorker::stop()
{
    m_ticker.stop();
    for (const std::unique_ptr<Target> &target : m_targets) {
        abandon(*target);
    }
}

void ScrapeWorker::setTargets(const std::vector<ScrapeTarget> &targets)
{
    m_board.setTargets(targets);

    std::vector<std::unique_ptr<Target>> next;
    next.reserve(targets.size());
    for (const ScrapeTarget &wanted : targets) {
        const auto sameId = [&](const std::unique_ptr<Target> &t) { return t && t->backendId == wanted.backendId; };
        if (std::any_of(next.begin(), next.end(), sameId)) {
            continue; // the board keeps the first URL of a repeated backend id too
        }
        const auto kept = std::find_if(m_targets.begin(), m_targets.end(), [&](const std::unique_ptr<Target> &t) {
            return sameId(t) && t->url == wanted.url;
        });
        if (kept != m_targets.end()) {
            next.push_back(std::move(*kept));
            continue;
        }
        auto target = std::make_unique<Target>();
        target->backendId = wanted.backendId;
        target->url = wanted.url;
        target->deadline.setSingleShot(true);
        Target *raw = target.get();
        connect(&target->deadline, &QTimer::timeout, this, [this, raw] {
            if (raw->reply) {
                raw->abortReason = QByteArrayLiteral("timed out after ") + QByteArray::number(m_settings.timeoutMs)
                    + QByteArrayLiteral(" ms");
                raw->reply->abort(); // finished() follows synchronously
            }
        });
        next.push_back(std::move(target));
    }
    for (const std::unique_ptr<Target> &dropped : m_targets) {
        if (dropped) {
            abandon(*dropped);
        }
    }
    m_targets = std::move(next);
    if (m_ticker.isActive()) {
        tick(); // new targets need not wait a whole interval
    }
}

void ScrapeWorker::tick()
{
    for (const std::unique_ptr<Target> &target : m_targets) {
        if (!target->reply) {
            scrape(*target);
        }
    }
}

void ScrapeWorker::scrape(Target &target)
{
    QNetworkRequest request {target.url};
    request.setRawHeader(QByteArrayLiteral("Accept"), QByteArray {ACCEPT_TEXT_FORMAT});
    request.setAttribute(QNetworkRequest::CacheLoadControlAttribute, QNetworkRequest::AlwaysNetwork);

    QNetworkReply *reply = m_network->get(request);
    target.reply = reply;
    target.abortReason.clear();
    target.deadline.start(std::chrono::milliseconds {m_settings.timeoutMs});

    Target *raw = &target;
    connect(reply, &QNetworkReply::downloadProgress, this, [this, raw](qint64 received, qint64) {
        if (received > ScrapeSettings::MAX_BODY_BYTES && raw->reply) {
            raw->abortReason = QByteArrayLiteral("exposition larger than ")
                + QByteArray::number(ScrapeSettings::MAX_BODY_BYTES) + QByteArrayLiteral(" bytes");
            raw->reply->abort();
        }
    });
    connect(reply, &QNetworkReply::finished, this, [this, raw] { finish(*raw); });
}

void ScrapeWorker::finish(Target &target)
{
    QNetworkReply *reply = target.reply;
    if (!reply) {
        return;
    }
    target.reply = nullptr;
    target.deadline.stop();
    reply->deleteLater();

    const qint64 nowMs = steadyNowMs();
    const int backendId = target.backendId;
    const QVariant status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute);
    QByteArray error;
    qsizetype malformedLines = 0;
    if (!target.abortReason.isEmpty()) {
        error = target.abortReason;
    } else if (status.isValid() && (status.toInt() < 200 || status.toInt() > 299)) {
        error = QByteArrayLiteral("HTTP ") + QByteArray::number(status.toInt());
    } else if (reply->error() != QNetworkReply::NoError) {
        error = reply->errorString().toUtf8();
    } else {
        const QByteArray body = reply->readAll();
        const EngineSample sample = readEngineMetrics(body);
        if (sample.engine == EngineKind::Unknown) {
            error = QByteArrayLiteral("no vLLM, SGLang, TGI or llama.cpp series in the exposition");
            malformedLines = sample.malformedLines;
        } else {
            m_board.recordSuccess(backendId, sample, nowMs);
        }
    }
    if (!error.isEmpty()) {
        m_board.recordFailure(backendId, error, malformedLines);
    }
    emit scraped(backendId);
}

void ScrapeWorker::abandon(Target &target)
{
    target.deadline.stop();
    QNetworkReply *reply = target.reply;
    if (!reply) {
        return;
    }
    target.reply = nullptr;
    disconnect(reply, nullptr, this, nullptr); // no finish() for a scrape nobody waits for
    reply->abort();
    reply->deleteLater();
}

} // namespace Gateway::Gpu
