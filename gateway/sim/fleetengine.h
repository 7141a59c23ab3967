#pragma once

#include "fleetserverconfig.h"
#include "sim/fleet/servermodel.h"
#include "sim/fleet/simtime.h"

#include <QByteArray>
#include <QByteArrayView>
#include <QElapsedTimer>
#include <QObject>
#include <QTimer>

#include <cstdint>
#include <unordered_map>
#include <vector>

namespace Gateway::Sim {

// Hears how one request submitted to a FleetEngine progresses.
class FleetEngineListener {
public:
    // The request has `tokens` tokens in all now (1 = its first token); `finished` comes
    // with the last one, after which the listener is never called again.
    virtual void generated(int tokens, bool finished) = 0;
    // The engine refused the request (it can never fit in the KV cache); final too.
    virtual void rejected() = 0;

protected:
    ~FleetEngineListener() = default;
};

// The fleet simulator's ServerModel on the wall clock: simulated time is the time since
// construction divided by the time scale. One single-shot timer wakes the model at its
// next event (the end of the step in flight, or when a submitted request becomes ready);
// each wake-up replays every event that is due, at its own simulated time, so the model's
// timeline is exactly the in-process one whatever the timer's lateness, and only the
// delivery of tokens to clients is late (by under a millisecond of wall time plus
// scheduling). Lives on one thread (a server worker); nothing blocks.
//
// Token delivery: the model reports first tokens and completions per request, and a
// decoding request gets one token per step; so every step that ends gives one token to
// each request that had its first token before that step, up to its last token, which
// waits for the model's completion report. Exact unless the model preempts a decoding
// request or a step's token budget runs out before reaching it (then that request's
// tokens run ahead of the model by the steps it missed until the completion report).
class FleetEngine final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(FleetEngine)

public:
    explicit FleetEngine(const FleetServerConfig &config, QObject *parent = nullptr);
    ~FleetEngine() override;

    // Prompt tokens the model counts for a rendered prompt (4 characters per token).
    static int promptTokens(QByteArrayView promptText);
    // False when prompt + output can never fit in the KV cache: the model would reject it.
    bool fits(int promptTokens, int maxTokens) const;

    // Hands a request to the model at the current simulated time. `listener` must stay
    // valid until it is told the request finished or was rejected, or until abort(id).
    // `remotePrefill`: the prompt's KV blocks are transferred from a prefill server
    // (EngineRequest::remotePrefill).
    std::uint64_t submit(const QByteArray &promptText, const QByteArray &completionText, int maxTokens,
                         FleetEngineListener &listener, bool remotePrefill = false);
    // The client went away: the model drops the request (its blocks are freed at the end
    // of the step it is part of) and the listener is forgotten. Unknown ids are ignored.
    void abort(std::uint64_t id);

    // The model's state at the current simulated time.
    Fleet::ServerStatus status();
    // The same as a vLLM-named Prometheus exposition (what /metrics answers).
    QByteArray metricsText();
    // Simulated microseconds since the engine started.
    Fleet::SimTime now() const;

private:
    struct Tracked {
        FleetEngineListener *listener = nullptr;
        int maxTokens = 1;
        int generated = 0;
        bool changed = false;
    };

    struct Notice {
        FleetEngineListener *listener;
        int tokens;
        bool finished;
        bool rejected;
    };

    // Replays every model event due by now, delivers the tokens they produced and arms
    // the timer for the next one.
    void runDueEvents();
    // The same without arming the timer: replays the events due by `present`, in order,
    // each at its own time, and delivers their tokens.
    void advanceTo(Fleet::SimTime present);
    void absorb(bool stepEnded);
    void deliver();
    void scheduleNextEvent(Fleet::SimTime now);

    FleetServerConfig m_config;
    Fleet::ServerModel m_model;
    Fleet::StepReport m_report;
    QElapsedTimer m_clock;
    QTimer m_timer;
    std::unordered_map<std::uint64_t, Tracked> m_requests;
    std::vector<Notice> m_notices; // reused between wake-ups
    std::uint64_t m_nextId = 1;
    std::int64_t m_steps = 0; // steps the model had completed at the last look
};

} // namespace Gateway::Sim
