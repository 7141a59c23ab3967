#include "generationexchange.h"

#include "simhandler.h"
#include "simstate.h"

namespace Gateway::Sim {

GenerationExchange::GenerationExchange(SimHandler &handler, SimState &state, Http::ResponseWriter &writer,
                                       Plan plan)
    : m_handler {handler}
    , m_state {state}
    , m_writer {writer}
    , m_plan {std::move(plan)}
{
    m_timer.setSingleShot(true);
    m_timer.setTimerType(Qt::PreciseTimer); // inter-token gaps are tens of milliseconds
    QObject::connect(&m_timer, &QTimer::timeout, &m_timer, [this] { (this->*m_timerAction)(); });
    m_startEpoch = m_state.counters().releaseEpoch.load(std::memory_order_acquire);
    if (m_plan.mode != Mode::Canned) {
        m_inFlight = true;
        m_state.counters().inFlight.fetch_add(1, std::memory_order_relaxed);
        m_tokensHeld = m_plan.generation.promptTokens;
        if (m_plan.mode == Mode::Complete) {
            m_tokensHeld += m_plan.generation.completionTokens;
        }
        m_state.counters().tokensHeld.fetch_add(m_tokensHeld, std::memory_order_relaxed);
    }
}

GenerationExchange::~GenerationExchange()
{
    m_timer.stop();
    SimCounters &counters = m_state.counters();
    if (m_held) {
        m_handler.forget(this);
        counters.heldStreams.fetch_sub(1, std::memory_order_relaxed);
    }
    if (!m_done) {
        counters.requestsCancelled.fetch_add(1, std::memory_order_relaxed);
        if (m_plan.mode == Mode::Stream) {
            counters.streamsCancelled.fetch_add(1, std::memory_order_relaxed);
        }
    }
    if (m_inFlight) {
        counters.inFlight.fetch_sub(1, std::memory_order_relaxed);
        counters.tokensHeld.fetch_sub(m_tokensHeld, std::memory_order_relaxed);
    }
}

void GenerationExchange::start()
{
    if (m_plan.headerDelayMs > 0) {
        after(m_plan.headerDelayMs, &GenerationExchange::onHeaderDelayElapsed);
    } else {
        onHeaderDelayElapsed();
    }
}

void GenerationExchange::after(int delayMs, void (GenerationExchange::*action)())
{
    m_timerAction = action;
    m_timer.start(delayMs);
}

void GenerationExchange::onHeaderDelayElapsed()
{
    switch (m_plan.mode) {
    case Mode::Canned:
        markDone();
        m_writer.respond(m_plan.status, m_plan.headers, m_plan.body);
        return;
    case Mode::Complete: {
        const int tokens = m_plan.generation.completionTokens;
        const int total = m_plan.ttftMs + m_plan.interTokenMs * std::max(0, tokens - 1);
        if (total > 0) {
            after(total, &GenerationExchange::answerComplete);
        } else {
            answerComplete();
        }
        return;
    }
    case Mode::Stream:
        m_writer.writeHead(200, m_plan.headers, -1);
        pump();
        return;
    }
}

void GenerationExchange::answerComplete()
{
    m_state.counters().generationTokensTotal.fetch_add(m_plan.generation.completionTokens,
                                                       std::memory_order_relaxed);
    markDone();
    m_writer.respond(200, m_plan.headers, ResponseFormat::completeBody(m_plan.generation));
}

int GenerationExchange::delayBefore(int event) const
{
    const int first = ResponseFormat::firstTokenEvent(m_plan.generation);
    if (event == first) {
        return m_plan.ttftMs;
    }
    if (event > first && event < first + m_plan.generation.completionTokens) {
        return m_plan.interTokenMs;
    }
    return 0; // framing events travel with the token before them
}

void GenerationExchange::pump()
{
    const ResponseFormat::Generation &generation = m_plan.generation;
    const int count = ResponseFormat::streamEventCount(generation);
    const int first = ResponseFormat::firstTokenEvent(generation);
    SimCounters &counters = m_state.counters();
    while (m_nextEvent < count) {
        if (m_plan.resetAfterChunks >= 0 && m_nextEvent >= m_plan.resetAfterChunks) {
            markDone();
            counters.streamsReset.fetch_add(1, std::memory_order_relaxed);
            m_writer.abort();
            return;
        }
        if (m_plan.holdAfterChunks >= 0 && m_nextEvent >= m_plan.holdAfterChunks && !m_released) {
            if (counters.releaseEpoch.load(std::memory_order_acquire) != m_startEpoch) {
                m_released = true; // released before we got here
            } else {
                m_held = true;
                counters.heldStreams.fetch_add(1, std::memory_order_relaxed);
                m_handler.hold(this);
                return;
            }
        }
        if (!m_waited) {
            const int delay = delayBefore(m_nextEvent);
            if (delay > 0) {
                m_waited = true;
                after(delay, &GenerationExchange::pump);
                return;
            }
        }
        m_waited = false;
        m_writer.writeBody(ResponseFormat::streamEvent(generation, m_nextEvent));
        if (m_nextEvent >= first && m_nextEvent < first + generation.completionTokens) {
            // Decoding grows the KV cache by one token per step.
            ++m_tokensHeld;
            counters.tokensHeld.fetch_add(1, std::memory_order_relaxed);
            counters.generationTokensTotal.fetch_add(1, std::memory_order_relaxed);
        }
        ++m_nextEvent;
    }
    markDone();
    counters.streamsCompleted.fetch_add(1, std::memory_order_relaxed);
    m_writer.finish();
}

void GenerationExchange::resume()
{
    if (!m_held) {
        return;
    }
    m_held = false;
    m_released = true;
    m_state.counters().heldStreams.fetch_sub(1, std::memory_order_relaxed);
    pump();
}

void GenerationExchange::markDone()
{
    m_done = true;
    m_timer.stop();
}

} // namespace Gateway::Sim
