#include "openloopload.h"

#include <QJsonDocument>
#include <QJsonObject>

#include <algorithm>
#include <cmath>

namespace Soak {

using TestSupport::TestHttpClient;

namespace {

QByteArray chat(const QByteArray &model, bool stream)
{
    return "{\"model\":\"" + model + "\",\"messages\":[{\"role\":\"user\",\"content\":\"How is the weather today?\"}],"
           "\"max_tokens\":8" + (stream ? ",\"stream\":true" : "") + "}";
}

} // namespace

OpenLoopLoad::OpenLoopLoad(Settings settings, QObject *parent)
    : QObject {parent}
    , m_settings {std::move(settings)}
{
    // The schedule is kept by counting what is due since the start, so a late tick
    // sends everything it missed: the rate holds even when the timer does not.
    m_ticker.setTimerType(Qt::PreciseTimer);
    m_ticker.setInterval(2);
    connect(&m_ticker, &QTimer::timeout, this, &OpenLoopLoad::tick);
    m_sweeper.setInterval(500);
    connect(&m_sweeper, &QTimer::timeout, this, &OpenLoopLoad::sweep);
}

OpenLoopLoad::~OpenLoopLoad() = default;

void OpenLoopLoad::start()
{
    m_sending = true;
    m_clock.start();
    m_tally.sent = 0;
    m_ticker.start();
    m_sweeper.start();
}

void OpenLoopLoad::stopSending()
{
    m_sending = false;
    m_ticker.stop();
}

void OpenLoopLoad::closeConnections()
{
    m_idle.clear();
    m_busy.clear();
    m_connections.clear();
    m_sweeper.stop();
}

void OpenLoopLoad::tick()
{
    const auto due = static_cast<qint64>(std::floor(static_cast<double>(m_clock.elapsed()) * m_settings.rate / 1000.0));
    while (m_sending && m_tally.sent < due) {
        if (m_idle.empty() && static_cast<int>(m_connections.size()) >= m_settings.maxConnections) {
            ++m_tally.late; // sent on a later tick, when an answer frees a connection
            return;
        }
        send();
    }
}

TestHttpClient *OpenLoopLoad::takeConnection()
{
    while (!m_idle.empty()) {
        TestHttpClient *client = m_idle.front();
        m_idle.pop_front();
        if (client->isConnected()) {
            return client;
        }
        // Closed by the gateway while idle (e.g. its idle timeout): not an error.
        const auto it = std::find_if(m_connections.begin(), m_connections.end(),
                                     [client](const auto &owned) { return owned.get() == client; });
        m_connections.erase(it);
    }
    m_connections.push_back(std::make_unique<TestHttpClient>(m_settings.port));
    TestHttpClient *client = m_connections.back().get();
    connect(client, &TestHttpClient::responseComplete, this, [this, client] { onComplete(client); });
    m_tally.peakConnections = std::max(m_tally.peakConnections, static_cast<int>(m_connections.size()));
    return client;
}

void OpenLoopLoad::send()
{
    const qint64 index = m_tally.sent++;
    // Every third request streams (for the default share): spread evenly, not in runs.
    const bool stream = std::floor(static_cast<double>(index + 1) * m_settings.streamShare) >
                        std::floor(static_cast<double>(index) * m_settings.streamShare);
    const QByteArray &model = m_settings.models[static_cast<int>(index % m_settings.models.size())];
    TestHttpClient *client = takeConnection();
    m_busy.insert(client, Busy {m_clock.elapsed(), stream});
    client->post("/v1/chat/completions", chat(model, stream));
}

void OpenLoopLoad::onComplete(TestHttpClient *client)
{
    const auto busy = m_busy.find(client);
    const QList<TestHttpClient::Response> responses = client->takeResponses();
    if (busy == m_busy.end()) {
        countOther("answer to no request");
        return;
    }
    const bool stream = busy->stream;
    m_busy.erase(busy);
    for (const auto &response : responses) {
        classify(response, stream);
    }
    m_idle.push_back(client);
}

void OpenLoopLoad::classify(const TestHttpClient::Response &response, bool stream)
{
    if (response.status == 200) {
        if (stream) {
            const QList<QByteArray> events = response.sseDataLines();
            if (!events.isEmpty() && events.constLast() == "[DONE]" && !response.body.contains("\"error\"")) {
                ++m_tally.complete;
                ++m_tally.completeStreams;
                return;
            }
            countOther("stream without [DONE] or with an error event");
            return;
        }
        if (response.body.contains("\"chat.completion\"")) {
            ++m_tally.complete;
            return;
        }
        countOther("200 without a completion");
        return;
    }
    const QJsonObject error = QJsonDocument::fromJson(response.body).object().value(QStringLiteral("error")).toObject();
    const QString code = error.value(QStringLiteral("code")).toString();
    // The simulated upstream's injected failure is a 500; with one target per route the
    // gateway reports it as 502 upstream_error naming that status.
    if (response.status == 502 && code == QStringLiteral("upstream_error") &&
        error.value(QStringLiteral("message")).toString().contains(QStringLiteral("500"))) {
        ++m_tally.injected;
        return;
    }
    countOther(QByteArray::number(response.status) + ' ' + code.toUtf8());
}

void OpenLoopLoad::countOther(const QByteArray &kind)
{
    ++m_tally.other;
    ++m_tally.otherKinds[kind];
}

void OpenLoopLoad::sweep()
{
    // Requests whose connection broke, or that were never answered in time.
    const qint64 now = m_clock.elapsed();
    for (auto it = m_busy.begin(); it != m_busy.end();) {
        TestHttpClient *client = it.key();
        const bool broken = !client->isConnected() && now - it->sentAtMs > 2000;
        const bool timedOut = now - it->sentAtMs > m_settings.answerTimeoutMs;
        if (!broken && !timedOut && client->parseError().isEmpty()) {
            ++it;
            continue;
        }
        countOther(!client->parseError().isEmpty() ? QByteArray("unparsable response")
                   : broken                        ? QByteArray("connection lost")
                                                   : QByteArray("no answer in time"));
        it = m_busy.erase(it);
        const auto owned = std::find_if(m_connections.begin(), m_connections.end(),
                                        [client](const auto &candidate) { return candidate.get() == client; });
        m_connections.erase(owned);
    }
}

} // namespace Soak
