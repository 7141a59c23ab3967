#pragma once

#include "http/requesthandler.h"
#include "responseformat.h"

#include <QTimer>

namespace Gateway::Sim {

class SimHandler;
class SimState;

// One simulated answer in progress on the worker thread: waits out the header delay,
// then answers at once (canned errors), after the full generation time (non-stream),
// or event by event with realistic pacing (stream). Destroying it before the end is
// how the server tells us the client went away; that is counted as a cancellation.
class GenerationExchange final : public Http::Exchange {
public:
    enum class Mode { Canned, Complete, Stream };

    struct Plan {
        Mode mode = Mode::Canned;
        // Canned
        int status = 200;
        Http::HeaderList headers;
        QByteArray body;
        // Complete / Stream
        ResponseFormat::Generation generation;
        int ttftMs = 0;
        int interTokenMs = 0;
        int resetAfterChunks = -1;
        int holdAfterChunks = -1;
        // Both
        int headerDelayMs = 0;
    };

    GenerationExchange(SimHandler &handler, SimState &state, Http::ResponseWriter &writer, Plan plan);
    ~GenerationExchange() override;
    GenerationExchange(const GenerationExchange &) = delete;
    GenerationExchange &operator=(const GenerationExchange &) = delete;

    void start();
    // Continues a stream stopped at its hold point.
    void resume();
    // The release epoch when this exchange started: releases from then on do not apply to it.
    quint64 startEpoch() const { return m_startEpoch; }

private:
    void after(int delayMs, void (GenerationExchange::*action)());
    void onHeaderDelayElapsed();
    void answerComplete();
    void pump();
    int delayBefore(int event) const;
    void markDone();

    SimHandler &m_handler;
    SimState &m_state;
    Http::ResponseWriter &m_writer;
    Plan m_plan;
    QTimer m_timer;
    void (GenerationExchange::*m_timerAction)() = nullptr;
    quint64 m_startEpoch = 0;
    qint64 m_tokensHeld = 0; // what we added to the KV usage, given back at the end
    int m_nextEvent = 0;
    bool m_waited = false;   // the delay before m_nextEvent has elapsed
    bool m_held = false;
    bool m_released = false;
    bool m_inFlight = false;
    bool m_done = false;
};

} // namespace Gateway::Sim
