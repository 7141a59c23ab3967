#include "simhandler.h"

#include "generationexchange.h"
#include "simstate.h"

#include <QDateTime>

#include <algorithm>

namespace Gateway::Sim {

namespace {

constexpr QByteArrayView SSE_TYPE = "text/event-stream";
constexpr QByteArrayView JSON_TYPE = "application/json";
constexpr QByteArrayView METRICS_TYPE = "text/plain; version=0.0.4; charset=utf-8";

QByteArray idFor(Endpoint endpoint, quint64 serial)
{
    switch (endpoint) {
    case Endpoint::Messages: return "msg_sim" + QByteArray::number(serial);
    case Endpoint::Completions: return "cmpl-sim" + QByteArray::number(serial);
    case Endpoint::Embeddings: return "embd-sim" + QByteArray::number(serial);
    case Endpoint::ChatCompletions: break;
    }
    return "chatcmpl-sim" + QByteArray::number(serial);
}

} // namespace

SimHandler::SimHandler(SimState &state)
    : m_state {state}
{
    m_state.registerHandler(this);
}

SimHandler::~SimHandler()
{
    m_state.unregisterHandler(this);
}

Http::HeaderList SimHandler::jsonHeaders() const
{
    return {{"content-type", JSON_TYPE.toByteArray()}, {"x-sim-upstream", m_state.nameHeader()}};
}

void SimHandler::respondError(Http::ResponseWriter &writer, bool anthropic, int status, QByteArrayView message) const
{
    writer.respond(status, jsonHeaders(), ResponseFormat::errorBody(anthropic, status, message));
}

std::unique_ptr<Http::Exchange> SimHandler::handle(Http::Request &&request, Http::ResponseWriter &writer)
{
    m_state.noteConnection(request);
    const QByteArray &path = request.path;
    const bool isPost = request.method == "POST";
    const bool isGet = request.method == "GET";

    Endpoint endpoint = Endpoint::ChatCompletions;
    bool inference = true;
    if (path == "/v1/chat/completions") {
        endpoint = Endpoint::ChatCompletions;
    } else if (path == "/v1/completions") {
        endpoint = Endpoint::Completions;
    } else if (path == "/v1/embeddings") {
        endpoint = Endpoint::Embeddings;
    } else if (path == "/v1/messages") {
        endpoint = Endpoint::Messages;
    } else {
        inference = false;
    }
    if (inference) {
        if (!isPost) {
            respondError(writer, endpoint == Endpoint::Messages, 405, "use POST");
            return nullptr;
        }
        return serveInference(endpoint, std::move(request), writer);
    }

    if (path == "/v1/models" && isGet) {
        writer.respond(200, jsonHeaders(), ResponseFormat::modelsBody(m_state.flavor(), m_state.models()));
        return nullptr;
    }
    if (path == "/metrics" && isGet) {
        m_state.counters().metricsScrapes.fetch_add(1, std::memory_order_relaxed);
        writer.respond(200, {{"content-type", METRICS_TYPE.toByteArray()}, {"x-sim-upstream", m_state.nameHeader()}},
                       m_state.metricsText());
        return nullptr;
    }
    if (path == "/health" && isGet) {
        writer.respond(200, {{"x-sim-upstream", m_state.nameHeader()}}, {});
        return nullptr;
    }
    respondError(writer, m_state.flavor() == Flavor::Anthropic, 404, "no such endpoint");
    return nullptr;
}

std::unique_ptr<Http::Exchange> SimHandler::serveInference(Endpoint endpoint, Http::Request &&request,
                                                           Http::ResponseWriter &writer)
{
    const bool anthropic = endpoint == Endpoint::Messages;
    const SimState::Admission admission = m_state.admit(request);
    const Behaviour &behaviour = admission.behaviour;

    GenerationExchange::Plan plan;
    plan.headerDelayMs = behaviour.headerDelayMs;
    plan.headers = jsonHeaders();

    if (admission.verdict != SimState::Verdict::Serve) {
        plan.mode = GenerationExchange::Mode::Canned;
        if (admission.verdict == SimState::Verdict::RateLimit) {
            plan.status = 429;
            plan.headers.push_back({"retry-after", QByteArray::number(behaviour.retryAfterSeconds)});
            plan.body = ResponseFormat::errorBody(anthropic, 429, "simulated rate limit");
        } else if (admission.verdict == SimState::Verdict::Unauthorized) {
            plan.status = 401;
            plan.body = ResponseFormat::errorBody(anthropic, 401, "simulated revoked API key");
        } else {
            plan.status = behaviour.errorStatus;
            plan.body = ResponseFormat::errorBody(anthropic, plan.status,
                                                  behaviour.errorMessage.isEmpty() ? QByteArrayLiteral("simulated upstream failure")
                                                                                   : behaviour.errorMessage);
        }
        auto exchange = std::make_unique<GenerationExchange>(*this, m_state, writer, std::move(plan));
        exchange->start();
        return exchange;
    }

    auto parsed = parseInferenceRequest(endpoint, request.body);
    if (!parsed) {
        respondError(writer, anthropic, 400, parsed.error());
        return nullptr;
    }
    const InferenceRequest &inference = parsed.value();
    const int window = behaviour.contextWindowTokens;
    if (window > 0 && inference.promptTokens + std::max(0, inference.maxTokens) > window) {
        const QByteArray message = "This model's maximum context length is " + QByteArray::number(window) +
                                   " tokens; the request needs " +
                                   QByteArray::number(inference.promptTokens + std::max(0, inference.maxTokens)) +
                                   " (context_length_exceeded)";
        respondError(writer, anthropic, 400, message);
        return nullptr;
    }
    m_state.recordPrompt(inference.prefixHash, inference.prefixTokens, inference.promptTokens);

    QByteArray model = inference.model;
    if (model.isEmpty()) {
        const auto models = m_state.models();
        model = models.isEmpty() ? QByteArrayLiteral("sim-model") : models.first();
    }
    const quint64 serial = m_state.counters().nextId.fetch_add(1, std::memory_order_relaxed);

    if (endpoint == Endpoint::Embeddings) {
        plan.mode = GenerationExchange::Mode::Canned;
        plan.body = ResponseFormat::embeddingsBody(model, inference.inputTexts, inference.inputCount, inference.inputHash,
                                                   inference.promptTokens);
        auto exchange = std::make_unique<GenerationExchange>(*this, m_state, writer, std::move(plan));
        exchange->start();
        return exchange;
    }

    ResponseFormat::Generation &generation = plan.generation;
    generation.endpoint = endpoint;
    generation.id = idFor(endpoint, serial);
    generation.model = model;
    generation.created = QDateTime::currentSecsSinceEpoch();
    generation.promptTokens = inference.promptTokens;
    generation.includeUsage = inference.includeUsage;
    // A request without a limit runs until the model "stops"; with one, until the limit.
    const bool limited = inference.maxTokens >= 0;
    int tokens = limited ? inference.maxTokens : behaviour.defaultMaxTokens;
    tokens = std::clamp(tokens, 1, std::max(1, behaviour.maxTokensCap));
    generation.stopped = !limited;
    if (behaviour.stopAfterTokens >= 0 && behaviour.stopAfterTokens < tokens) {
        tokens = std::max(1, behaviour.stopAfterTokens);
        generation.stopped = true;
    }
    // A continuation generates what the prefix left to go, numbered after it.
    generation.firstToken = std::clamp(inference.continuedTokens, 0, tokens - 1);
    generation.completionTokens = tokens - generation.firstToken;
    const bool chat = endpoint == Endpoint::ChatCompletions || endpoint == Endpoint::Messages;
    if (chat && !inference.firstTool.isEmpty() && !inference.toolsDisabled && !inference.lastIsToolResult) {
        // Offered tools and not yet given a result: the "model" calls the first tool.
        generation.toolName = inference.firstTool;
        generation.firstToken = 0;
        generation.completionTokens = ResponseFormat::TOOL_CALL_TOKENS;
        generation.stopped = true;
    }

    plan.ttftMs = behaviour.ttftBaseMs +
                  static_cast<int>(behaviour.ttftPerPromptTokenMs * static_cast<double>(inference.promptTokens));
    plan.interTokenMs = behaviour.interTokenMs;
    if (inference.stream) {
        plan.mode = GenerationExchange::Mode::Stream;
        plan.resetAfterChunks = behaviour.resetAfterChunks;
        plan.holdAfterChunks = behaviour.holdStreamAfterChunks;
        plan.headers = {{"content-type", SSE_TYPE.toByteArray()},
                        {"cache-control", "no-cache"},
                        {"x-sim-upstream", m_state.nameHeader()}};
    } else {
        plan.mode = GenerationExchange::Mode::Complete;
    }
    auto exchange = std::make_unique<GenerationExchange>(*this, m_state, writer, std::move(plan));
    exchange->start();
    return exchange;
}

void SimHandler::hold(GenerationExchange *exchange)
{
    m_held.push_back(exchange);
}

void SimHandler::forget(GenerationExchange *exchange)
{
    m_held.erase(std::remove(m_held.begin(), m_held.end(), exchange), m_held.end());
}

void SimHandler::resumeHeldStreams()
{
    // Only streams that started before the latest release: this call is queued, and a
    // stream that started (and reached its hold point) after releaseHeldStreams() was
    // not meant by it, so it keeps waiting for the next release.
    const quint64 epoch = m_state.counters().releaseEpoch.load(std::memory_order_acquire);
    std::vector<GenerationExchange *> held;
    held.swap(m_held);
    for (GenerationExchange *exchange : held) {
        if (exchange->startEpoch() == epoch) {
            m_held.push_back(exchange);
        }
    }
    // Resuming never destroys an exchange synchronously (the server defers that).
    for (GenerationExchange *exchange : held) {
        if (exchange->startEpoch() != epoch) {
            exchange->resume();
        }
    }
}

} // namespace Gateway::Sim
