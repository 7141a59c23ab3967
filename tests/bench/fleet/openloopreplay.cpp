#include "openloopreplay.h"

#include "testhttpclient.h"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace FleetBench {

namespace {

using namespace Gateway::Sim::Fleet;

// A send this much later than scheduled (wall) is reported: beyond it the replay is no
// longer the workload's arrival process.
constexpr qint64 LATE_SEND_NANOS = 5'000'000;

// Chat chunks carry their token in "content"; the role-only, finish and usage chunks of
// the OpenAI stream do not.
constexpr QByteArrayView TOKEN_MARK = "\"content\":";

int countTokens(const QByteArray &body)
{
    int tokens = 0;
    for (qsizetype at = body.indexOf(TOKEN_MARK); at >= 0; at = body.indexOf(TOKEN_MARK, at + TOKEN_MARK.size())) {
        ++tokens;
    }
    return tokens;
}

} // namespace

OpenLoopReplay::OpenLoopReplay(const Workload &workload, Settings settings, QObject *parent)
    : QObject(parent)
    , m_workload(workload)
    , m_settings(std::move(settings))
    , m_inFlight(workload.requests.size())
{
    m_record.requests.resize(workload.requests.size());
    m_record.timeout = fromSeconds(static_cast<double>(m_settings.deadlineMs) / 1000.0 / m_settings.timeScale);
    m_arrivals.setSingleShot(true);
    m_arrivals.setTimerType(Qt::PreciseTimer);
    connect(&m_arrivals, &QTimer::timeout, this, &OpenLoopReplay::sendDue);
    m_deadline.setSingleShot(true);
    connect(&m_deadline, &QTimer::timeout, this, &OpenLoopReplay::onDeadline);
}

OpenLoopReplay::~OpenLoopReplay() = default;

SimTime OpenLoopReplay::simNow(std::size_t index) const
{
    const double sinceSent = static_cast<double>(m_clock.nsecsElapsed() - m_inFlight[index].sentNanos);
    return m_workload.requests[index].arrival + static_cast<SimTime>(sinceSent / (1000.0 * m_settings.timeScale));
}

void OpenLoopReplay::start()
{
    m_clock.start();
    sendDue();
}

void OpenLoopReplay::sendDue()
{
    const auto &requests = m_workload.requests;
    while (m_next < requests.size()) {
        const double dueMicros = static_cast<double>(requests[m_next].arrival) * m_settings.timeScale;
        const qint64 dueNanos = std::llround(dueMicros * 1000.0);
        const qint64 nowNanos = m_clock.nsecsElapsed();
        if (dueNanos > nowNanos) {
            m_arrivals.start(std::chrono::milliseconds((dueNanos - nowNanos + 999'999) / 1'000'000));
            return;
        }
        if (nowNanos - dueNanos > LATE_SEND_NANOS) {
            ++m_lateSends;
        }
        m_maxLatenessNanos = std::max(m_maxLatenessNanos, nowNanos - dueNanos);
        send(m_next++);
    }
    // Everything is sent: the rest is waiting, bounded.
    m_deadline.start(m_settings.deadlineMs);
    if (m_open == 0) {
        emit finished();
    }
}

void OpenLoopReplay::send(std::size_t index)
{
    const SimRequest &request = m_workload.requests[index];
    QByteArray prompt;
    for (const TextSpan &span : request.prompt) {
        m_renderer.append(prompt, span);
    }
    // Synthetic text is letters only: nothing to escape in JSON.
    QByteArray body = "{\"model\":\"" + m_settings.route + "\",\"stream\":true,\"max_tokens\":" +
                      QByteArray::number(request.outputTokens) + ",\"messages\":[{\"role\":\"user\",\"content\":\"" +
                      prompt + "\"}]";
    if (m_settings.sendCompletions && m_workload.completionsReused) {
        QByteArray completion;
        PromptRenderer::render(completion, request.completion.seed, request.completion.tokens);
        body += ",\"x_sim_completion_text\":\"" + completion + '"';
    }
    body += '}';

    RequestOutcome &outcome = m_record.requests[index];
    outcome.arrival = request.arrival;
    auto *client = new TestSupport::TestHttpClient(m_settings.port, this);
    m_inFlight[index].client = client;
    m_inFlight[index].sentNanos = m_clock.nsecsElapsed();
    ++m_open;
    connect(client, &TestSupport::TestHttpClient::bodyData, this, [this, index] { onBody(index); });
    connect(client, &TestSupport::TestHttpClient::responseComplete, this, [this, index] { onComplete(index); });
    client->post("/v1/chat/completions", body);
}

void OpenLoopReplay::onBody(std::size_t index)
{
    InFlight &flight = m_inFlight[index];
    if (flight.sawFirstToken || !flight.client) {
        return;
    }
    if (flight.client->bodySoFar().contains(TOKEN_MARK)) {
        flight.sawFirstToken = true;
        m_record.requests[index].firstToken = simNow(index);
    }
}

void OpenLoopReplay::onComplete(std::size_t index)
{
    InFlight &flight = m_inFlight[index];
    if (!flight.client) {
        return;
    }
    RequestOutcome &outcome = m_record.requests[index];
    const auto responses = flight.client->responses();
    const auto &response = responses.first();
    outcome.finished = simNow(index);
    outcome.outputTokens = countTokens(response.body);
    outcome.backend = static_cast<int>(m_settings.backends.indexOf(response.header("x-switchyard-backend")));
    const bool complete = response.status == 200 && flight.sawFirstToken &&
                          outcome.outputTokens == m_workload.requests[index].outputTokens;
    settle(index, complete ? RequestFate::Completed : RequestFate::Rejected);
}

void OpenLoopReplay::settle(std::size_t index, RequestFate fate)
{
    InFlight &flight = m_inFlight[index];
    m_record.requests[index].fate = fate;
    flight.client->deleteLater(); // we are inside its signal
    flight.client = nullptr;
    if (--m_open == 0 && m_next == m_workload.requests.size()) {
        m_deadline.stop();
        emit finished();
    }
}

void OpenLoopReplay::onDeadline()
{
    for (std::size_t i = 0; i < m_inFlight.size(); ++i) {
        if (m_inFlight[i].client) {
            m_inFlight[i].client->close();
            settle(i, RequestFate::TimedOut);
        }
    }
}

} // namespace FleetBench
