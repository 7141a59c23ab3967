#pragma once

#include "fleetengine.h"
#include "http/requesthandler.h"
#include "responseformat.h"

#include <QByteArray>

#include <cstdint>

namespace Gateway::Sim {

struct FleetCounters;

// One OpenAI request on a fleet-mode server: submitted to the engine at once, answered
// as the engine produces its tokens. A stream gets its headers at once (as vLLM sends
// them) and one SSE event per token as soon as the engine's step produced it; a plain
// request gets the whole answer with the last token. Destroying it before the end is
// how the server tells us the client went away: the request is aborted in the engine,
// which frees its KV blocks.
class FleetExchange final : public Http::Exchange, public FleetEngineListener {
public:
    FleetExchange(FleetEngine &engine, FleetCounters &counters, Http::ResponseWriter &writer,
                  Http::HeaderList headers, ResponseFormat::Generation generation, bool stream);
    ~FleetExchange() override;
    FleetExchange(const FleetExchange &) = delete;
    FleetExchange &operator=(const FleetExchange &) = delete;

    // `remotePrefill`: the prompt's KV blocks come from a prefill server (vLLM
    // do_remote_prefill); the engine imports them instead of prefilling.
    void start(const QByteArray &promptText, const QByteArray &completionText, bool remotePrefill = false);
    // A prefill step's answer carries these kv_transfer_params (a JSON object).
    void setKvTransferAnswer(QByteArray params) { m_kvTransferAnswer = std::move(params); }

    void generated(int tokens, bool finished) override;
    void rejected() override;

private:
    // Appends the events of the tokens not sent yet, up to `tokens`.
    void streamTokens(int tokens, QByteArray &out);

    FleetEngine &m_engine;
    FleetCounters &m_counters;
    Http::ResponseWriter &m_writer;
    Http::HeaderList m_headers;
    ResponseFormat::Generation m_generation;
    std::uint64_t m_id = 0;
    int m_tokensSent = 0;
    bool m_stream = false;
    bool m_submitted = false;
    bool m_done = false;
    QByteArray m_kvTransferAnswer;
};

} // namespace Gateway::Sim
