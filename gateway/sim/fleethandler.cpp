#include "fleethandler.h"

#include "fleetcounters.h"
#include "fleetengine.h"
#include "fleetexchange.h"
#include "fleetrequest.h"
#include "fleetrequestlog.h"
#include "responseformat.h"

#include "util/jsonwriter.h"

#include <QDateTime>

namespace Gateway::Sim {

namespace {

constexpr QByteArrayView SSE_TYPE = "text/event-stream";
constexpr QByteArrayView JSON_TYPE = "application/json";
constexpr QByteArrayView METRICS_TYPE = "text/plain; version=0.0.4; charset=utf-8";

} // namespace

FleetHandler::FleetHandler(const FleetServerConfig &config, QByteArray name, FleetCounters &counters,
                           FleetRequestLog &requests, const std::atomic<quint16> &port)
    : m_config {config}
    , m_name {std::move(name)}
    , m_counters {counters}
    , m_requests {requests}
    , m_port {port}
    , m_engine {std::make_unique<FleetEngine>(config)}
{
}

FleetHandler::~FleetHandler() = default;

Http::HeaderList FleetHandler::headers(QByteArrayView contentType) const
{
    return {{"content-type", contentType.toByteArray()}, {"x-sim-upstream", m_name}};
}

void FleetHandler::respondError(Http::ResponseWriter &writer, int status, QByteArrayView message) const
{
    writer.respond(status, headers(JSON_TYPE), ResponseFormat::errorBody(false, status, message));
}

std::unique_ptr<Http::Exchange> FleetHandler::handle(Http::Request &&request, Http::ResponseWriter &writer)
{
    const QByteArray &path = request.path;
    const bool isGet = request.method == "GET";
    if (path == "/v1/chat/completions" || path == "/v1/completions") {
        if (request.method != "POST") {
            respondError(writer, 405, "use POST");
            return nullptr;
        }
        return serveInference(path == "/v1/chat/completions", request, writer);
    }
    if (path == "/metrics" && isGet) {
        m_counters.metricsScrapes.fetch_add(1, std::memory_order_relaxed);
        writer.respond(200, headers(METRICS_TYPE), m_engine->metricsText());
        return nullptr;
    }
    if (path == "/v1/models" && isGet) {
        writer.respond(200, headers(JSON_TYPE), ResponseFormat::modelsBody(Flavor::OpenAi, {m_config.model}));
        return nullptr;
    }
    if (path == "/health" && isGet) {
        writer.respond(200, {{"x-sim-upstream", m_name}}, {});
        return nullptr;
    }
    respondError(writer, 404, "no such endpoint");
    return nullptr;
}

std::unique_ptr<Http::Exchange> FleetHandler::serveInference(bool chat, const Http::Request &request,
                                                             Http::ResponseWriter &writer)
{
    const Endpoint endpoint = chat ? Endpoint::ChatCompletions : Endpoint::Completions;
    auto parsed = parseFleetRequest(endpoint, request.body);
    if (!parsed) {
        m_counters.requestsRejected.fetch_add(1, std::memory_order_relaxed);
        respondError(writer, 400, parsed.error());
        return nullptr;
    }
    FleetRequest &inference = parsed.value();
    const int maxTokens = inference.maxTokens > 0 ? inference.maxTokens : std::max(1, m_config.defaultMaxTokens);
    const int promptTokens = FleetEngine::promptTokens(inference.promptText);
    m_requests.add({promptTokens, inference.maxTokens, inference.stream, request.header("x-request-id"), inference.kvTransfer});
    if (!m_engine->fits(promptTokens, maxTokens)) {
        // vLLM refuses up front what can never fit; so does the model, but only after
        // its admission delay, when a stream's headers would already be out.
        m_counters.requestsRejected.fetch_add(1, std::memory_order_relaxed);
        const QByteArray message =
            "This model's maximum context length is " +
            QByteArray::number(qint64 {m_config.engine.numGpuBlocks} * m_config.engine.blockSize) +
            " tokens; the request needs " + QByteArray::number(qint64 {promptTokens} + maxTokens) +
            " (context_length_exceeded)";
        respondError(writer, 400, message);
        return nullptr;
    }

    ResponseFormat::Generation generation;
    generation.endpoint = endpoint;
    // Unique per server and request; the id only has to be stable within one answer.
    generation.id = (chat ? QByteArrayLiteral("chatcmpl-fleet") : QByteArrayLiteral("cmpl-fleet")) +
                    QByteArray::number(m_counters.requestsReceived.load(std::memory_order_relaxed) + 1);
    generation.model = inference.model.isEmpty() ? m_config.model : inference.model;
    generation.created = QDateTime::currentSecsSinceEpoch();
    generation.promptTokens = promptTokens;
    generation.completionTokens = maxTokens;
    generation.includeUsage = inference.includeUsage;

    Http::HeaderList responseHeaders = headers(JSON_TYPE);
    if (inference.stream) {
        responseHeaders = {{"content-type", SSE_TYPE.toByteArray()},
                           {"cache-control", "no-cache"},
                           {"x-sim-upstream", m_name}};
    }
    auto exchange = std::make_unique<FleetExchange>(*m_engine, m_counters, writer, std::move(responseHeaders),
                                                    std::move(generation), inference.stream);
    const KvTransferRequest &kv = inference.kvTransfer;
    if (kv.remoteDecode && !inference.stream) {
        // A prefill step: the blocks stay here for the decode server to pull.
        exchange->setKvTransferAnswer(prefillAnswerParams(promptTokens));
    }
    exchange->start(inference.promptText, inference.completionText, kv.remotePrefill && !kv.remoteDecode);
    return exchange;
}

QByteArray FleetHandler::prefillAnswerParams(int promptTokens)
{
    const int blocks = (promptTokens + m_config.engine.blockSize - 1) / m_config.engine.blockSize;
    QByteArray ids;
    for (int i = 0; i < blocks; ++i) {
        ids += (i == 0 ? "" : ",") + QByteArray::number(m_nextBlockId++);
    }
    return "{\"do_remote_prefill\":true,\"do_remote_decode\":false,\"remote_block_ids\":[" + ids +
           "],\"remote_engine_id\":" + Json::quoted(m_name) + ",\"remote_host\":\"127.0.0.1\",\"remote_port\":" +
           QByteArray::number(m_port.load(std::memory_order_relaxed)) + ",\"tp_size\":1}";
}

} // namespace Gateway::Sim
