#include "fleetexchange.h"

#include "fleetcounters.h"

#include <algorithm>

namespace Gateway::Sim {

FleetExchange::FleetExchange(FleetEngine &engine, FleetCounters &counters, Http::ResponseWriter &writer,
                             Http::HeaderList headers, ResponseFormat::Generation generation, bool stream)
    : m_engine {engine}
    , m_counters {counters}
    , m_writer {writer}
    , m_headers {std::move(headers)}
    , m_generation {std::move(generation)}
    , m_stream {stream}
{
}

FleetExchange::~FleetExchange()
{
    if (m_submitted && !m_done) {
        m_engine.abort(m_id);
        m_counters.requestsCancelled.fetch_add(1, std::memory_order_relaxed);
    }
}

void FleetExchange::start(const QByteArray &promptText, const QByteArray &completionText, bool remotePrefill)
{
    m_counters.requestsReceived.fetch_add(1, std::memory_order_relaxed);
    if (m_stream) {
        m_writer.writeHead(200, m_headers, -1);
    }
    m_id = m_engine.submit(promptText, completionText, m_generation.completionTokens, *this, remotePrefill);
    m_submitted = true;
}

void FleetExchange::streamTokens(int tokens, QByteArray &out)
{
    const int upTo = std::min(tokens, m_generation.completionTokens);
    for (; m_tokensSent < upTo; ++m_tokensSent) {
        out += ResponseFormat::streamEvent(m_generation, m_tokensSent);
    }
}

void FleetExchange::generated(int tokens, bool finished)
{
    if (m_done) {
        return;
    }
    if (finished) {
        m_done = true;
        m_counters.requestsCompleted.fetch_add(1, std::memory_order_relaxed);
        if (!m_stream) {
            QByteArray body = ResponseFormat::completeBody(m_generation);
            if (!m_kvTransferAnswer.isEmpty()) {
                body.insert(1, "\"kv_transfer_params\":" + m_kvTransferAnswer + ',');
            }
            m_writer.respond(200, m_headers, body);
            return;
        }
    }
    if (!m_stream) {
        return;
    }
    // Every event due now goes out in one write: after a late timer wake-up several
    // steps' tokens arrive together, and each write is a chunk and a flush.
    QByteArray events;
    streamTokens(finished ? m_generation.completionTokens : tokens, events);
    if (finished) {
        // The framing events (finish reason, usage, [DONE]) follow the last token.
        const int count = ResponseFormat::streamEventCount(m_generation);
        for (int event = m_generation.completionTokens; event < count; ++event) {
            events += ResponseFormat::streamEvent(m_generation, event);
        }
    }
    m_writer.writeBody(events);
    if (finished) {
        m_writer.finish();
    }
}

void FleetExchange::rejected()
{
    if (m_done) {
        return;
    }
    m_done = true;
    m_counters.requestsRejected.fetch_add(1, std::memory_order_relaxed);
    const QByteArray message = QByteArrayLiteral("the request needs more KV cache than the server has");
    if (m_stream) {
        // Headers are out already: report the error in the stream, as vLLM does for
        // errors after the response started.
        const QByteArray event = "data: " + ResponseFormat::errorBody(false, 400, message) + "\n\ndata: [DONE]\n\n";
        m_writer.writeBody(event);
        m_writer.finish();
        return;
    }
    m_writer.respond(400, m_headers, ResponseFormat::errorBody(false, 400, message));
}

} // namespace Gateway::Sim
