#include "fleetengine.h"

#include "sim/fleet/syntheticprompt.h"
#include "sim/fleet/vllmexposition.h"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace Gateway::Sim {

namespace {

// Below this a "simulated second" would last less than a millisecond of wall time and
// every step would be delivered late; far below anything useful anyway.
constexpr double MIN_TIME_SCALE = 1e-3;

} // namespace

FleetEngine::FleetEngine(const FleetServerConfig &config, QObject *parent)
    : QObject(parent)
    , m_config(config)
    , m_model(config.engine, config.model)
{
    m_config.timeScale = std::max(MIN_TIME_SCALE, config.timeScale);
    m_timer.setSingleShot(true);
    // Steps last milliseconds of simulated time; a coarse timer would bunch them up.
    m_timer.setTimerType(Qt::PreciseTimer);
    connect(&m_timer, &QTimer::timeout, this, &FleetEngine::runDueEvents);
    m_clock.start();
}

FleetEngine::~FleetEngine() = default;

int FleetEngine::promptTokens(QByteArrayView promptText)
{
    // ServerModel::submit's own count: whole 4-character tokens, at least one.
    return std::max(1, static_cast<int>(promptText.size() / Fleet::TOKEN_CHARS));
}

bool FleetEngine::fits(int promptTokens, int maxTokens) const
{
    const int blockSize = m_config.engine.blockSize;
    const qint64 tokens = qint64 {promptTokens} + std::max(1, maxTokens);
    return (tokens + blockSize - 1) / blockSize <= m_config.engine.numGpuBlocks;
}

Fleet::SimTime FleetEngine::now() const
{
    return static_cast<Fleet::SimTime>(static_cast<double>(m_clock.nsecsElapsed()) / (1000.0 * m_config.timeScale));
}

std::uint64_t FleetEngine::submit(const QByteArray &promptText, const QByteArray &completionText, int maxTokens,
                                  FleetEngineListener &listener, bool remotePrefill)
{
    // Events due by the arrival happen first; the request joins the model right after.
    const Fleet::SimTime arrival = now();
    advanceTo(arrival);
    Fleet::EngineRequest request;
    request.id = m_nextId++;
    request.promptText = promptText;
    request.completionText = completionText;
    request.maxTokens = std::max(1, maxTokens);
    request.remotePrefill = remotePrefill;
    m_requests[request.id] = Tracked {&listener, request.maxTokens, 0, false};
    m_model.submit(request, arrival);
    scheduleNextEvent(arrival);
    return request.id;
}

void FleetEngine::abort(std::uint64_t id)
{
    if (m_requests.erase(id) > 0) {
        m_model.abort(id);
    }
}

Fleet::ServerStatus FleetEngine::status()
{
    runDueEvents();
    return m_model.status();
}

QByteArray FleetEngine::metricsText()
{
    return Fleet::renderVllmMetrics(status(), m_config.model);
}

void FleetEngine::runDueEvents()
{
    const Fleet::SimTime present = now();
    advanceTo(present);
    scheduleNextEvent(present);
}

void FleetEngine::advanceTo(Fleet::SimTime present)
{
    while (const auto next = m_model.nextEventTime()) {
        if (*next > present) {
            break;
        }
        m_model.advance(*next, m_report);
        const std::int64_t steps = m_model.status().steps;
        absorb(steps != m_steps);
        m_steps = steps;
    }
    deliver();
}

void FleetEngine::absorb(bool stepEnded)
{
    if (stepEnded) {
        // Every request already decoding got one token from the step that just ended
        // (its last one waits for the model's completion report below).
        for (auto &[id, tracked] : m_requests) {
            if (tracked.generated >= 1 && tracked.generated < tracked.maxTokens - 1) {
                ++tracked.generated;
                tracked.changed = true;
            }
        }
    }
    for (const std::uint64_t id : m_report.firstTokens) {
        const auto it = m_requests.find(id);
        if (it != m_requests.end() && it->second.generated == 0) {
            it->second.generated = 1;
            it->second.changed = true;
        }
    }
    for (const Fleet::FinishedRequest &done : m_report.finished) {
        const auto it = m_requests.find(done.id);
        if (it != m_requests.end()) {
            m_notices.push_back({it->second.listener, done.generatedTokens, true, false});
            m_requests.erase(it);
        }
    }
    for (const std::uint64_t id : m_report.rejected) {
        const auto it = m_requests.find(id);
        if (it != m_requests.end()) {
            m_notices.push_back({it->second.listener, 0, false, true});
            m_requests.erase(it);
        }
    }
}

void FleetEngine::deliver()
{
    for (auto &[id, tracked] : m_requests) {
        if (tracked.changed) {
            tracked.changed = false;
            m_notices.push_back({tracked.listener, tracked.generated, false, false});
        }
    }
    // Listeners only write to their clients here; an exchange that finishes is destroyed
    // later by its connection, never while we iterate.
    std::vector<Notice> notices;
    notices.swap(m_notices);
    for (const Notice &notice : notices) {
        if (notice.rejected) {
            notice.listener->rejected();
        } else {
            notice.listener->generated(notice.tokens, notice.finished);
        }
    }
    notices.clear();
    m_notices.swap(notices); // keep the capacity
}

void FleetEngine::scheduleNextEvent(Fleet::SimTime present)
{
    const auto next = m_model.nextEventTime();
    if (!next) {
        m_timer.stop();
        return;
    }
    // Round up: waking early would find nothing due and cost another wake-up.
    const double wallMicros = static_cast<double>(*next - present) * m_config.timeScale;
    const auto wallMillis = static_cast<qint64>(std::ceil(wallMicros / 1000.0));
    const auto delay = std::chrono::milliseconds(std::max<qint64>(0, wallMillis));
    m_timer.start(delay);
}

} // namespace Gateway::Sim
