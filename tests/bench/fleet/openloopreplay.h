#pragma once

#include "sim/fleet/runresult.h"
#include "sim/fleet/syntheticprompt.h"
#include "sim/fleet/workload.h"

#include <QByteArray>
#include <QElapsedTimer>
#include <QList>
#include <QObject>
#include <QTimer>

#include <vector>

namespace TestSupport {
class TestHttpClient;
}

namespace FleetBench {

// Replays a workload's arrivals open loop through an OpenAI endpoint on the wall clock:
// request i is sent at arrival_i x timeScale after start(), whatever happened to the
// others, as one streamed chat request on its own connection. Its prompt is the text
// the in-process driver renders, as a single user message (the "user" role adds one
// 4-character token in front of it, on every prompt alike), with max_tokens = its output
// tokens.
//
// What each request saw is recorded in simulated time as the in-process driver records
// it: its arrival, then first token = the first SSE event carrying content and finished =
// the end of the stream, each at arrival + (wall time since it was actually sent) /
// timeScale, so the replay's own lateness (reported apart) does not count as latency;
// the backend from x-switchyard-backend. So summarize() applies the very same metric definitions to both
// runs. Requests unfinished at the deadline count as timed out; any other failure (a
// non-200 answer, fewer tokens than asked) as rejected.
class OpenLoopReplay final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(OpenLoopReplay)

public:
    struct Settings {
        quint16 port = 0;
        QByteArray route;            // the model clients ask for
        double timeScale = 1.0;      // wall seconds per simulated second
        QList<QByteArray> backends;  // x-switchyard-backend value of each server, by index
        bool sendCompletions = false; // multi-turn: tell the server each answer's text
        int deadlineMs = 120000;     // wall, after the last arrival
    };

    OpenLoopReplay(const Gateway::Sim::Fleet::Workload &workload, Settings settings, QObject *parent = nullptr);
    ~OpenLoopReplay() override;

    void start();
    // Outcomes so far, indexed like the workload (servers and gaps are not filled).
    const Gateway::Sim::Fleet::RunRecord &record() const { return m_record; }
    // Requests sent later than 5 ms (wall) after their scheduled arrival: the client
    // could not keep up, and the open loop is no longer the workload's.
    int lateSends() const { return m_lateSends; }
    double maxLatenessMs() const { return static_cast<double>(m_maxLatenessNanos) / 1e6; }

signals:
    void finished();

private:
    struct InFlight {
        TestSupport::TestHttpClient *client = nullptr;
        qint64 sentNanos = 0; // wall, since start()
        bool sawFirstToken = false;
    };

    void sendDue();
    void send(std::size_t index);
    void onBody(std::size_t index);
    void onComplete(std::size_t index);
    void settle(std::size_t index, Gateway::Sim::Fleet::RequestFate fate);
    void onDeadline();
    // Now, in the simulated time of request `index`.
    Gateway::Sim::Fleet::SimTime simNow(std::size_t index) const;

    const Gateway::Sim::Fleet::Workload &m_workload;
    Settings m_settings;
    Gateway::Sim::Fleet::PromptRenderer m_renderer;
    Gateway::Sim::Fleet::RunRecord m_record;
    std::vector<InFlight> m_inFlight;
    QElapsedTimer m_clock;
    QTimer m_arrivals;
    QTimer m_deadline;
    std::size_t m_next = 0;
    int m_open = 0;
    int m_lateSends = 0;
    qint64 m_maxLatenessNanos = 0;
};

} // namespace FleetBench
