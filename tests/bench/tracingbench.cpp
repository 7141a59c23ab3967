// What tracing costs a worker per request (docs/BENCHMARKS.md, "Tracing"): the trace
// decision, a request span and one attempt span built with their attributes and handed
// to the exporter, the traceparent written, and the answer scanned for its finish reason.
// The exporter's own thread encodes and POSTs the spans meanwhile to a collector
// stand-in on 127.0.0.1 (TestSupport::OtlpReceiver), as it would in production, so its
// CPU competes with the loop like the real one's does. One iteration is one request.
// Each repetition runs a fixed number of requests into a queue large enough for all of
// them, then (untimed) waits for the exporter to send them: the loop produces spans far
// faster than any gateway would, and an unbounded run would measure the drop path of a
// full queue instead.

#include "otlpreceiver.h"

#include "runtime/routetable.h"
#include "tracing/requesttrace.h"
#include "tracing/spanexporter.h"

#include <benchmark/benchmark.h>

#include <QCoreApplication>

#include <chrono>
#include <memory>
#include <thread>

using namespace Gateway;

namespace {

constexpr int REQUESTS_PER_REPETITION = 20000;
// Room for every span of a repetition: nothing takes the drop path.
constexpr int QUEUE_SPANS = 4 * REQUESTS_PER_REPETITION;

const QByteArray ANSWER = R"({"id":"chatcmpl-1","object":"chat.completion","model":"llama-3.1-8b","choices":[{"index":0,)"
                          R"("message":{"role":"assistant","content":"Hello! How can I help you today?"},"finish_reason":"stop"}],)"
                          R"("usage":{"prompt_tokens":812,"completion_tokens":9,"total_tokens":821}})";

struct Fixture {
    TestSupport::OtlpReceiver collector;
    Tracing::SpanExporter exporter;
    Config::TracingSettings settings;
    Runtime::ProviderRuntime provider;
    Runtime::BackendRuntime backend;
    Http::Request request;
    quint64 submitted = 0; // spans handed to the exporter so far

    Fixture()
    {
        collector.listen();
        settings.otlpEndpoint = collector.url();
        settings.maxQueueSpans = QUEUE_SPANS;
        exporter.configure({settings.otlpEndpoint, {}, settings.serviceName, settings.exportIntervalMs,
                            settings.maxQueueSpans});
        provider.config.name = QStringLiteral("gpu-1");
        provider.config.type = Config::ProviderType::Vllm;
        provider.config.baseUrl = "http://10.0.0.7:8000/v1";
        backend.upstreamModel = "llama-3.1-8b";
        backend.label = "gpu-1/llama-3.1-8b";
        request.method = "POST";
        request.path = "/v1/chat/completions";
    }
};

Fixture &fixture()
{
    static Fixture instance;
    return instance;
}

void tracedRequest(benchmark::State &state, double ratio)
{
    Fixture &f = fixture();
    Config::TracingSettings settings = f.settings;
    settings.sampleRatio = ratio;
    const auto receivedAt = std::chrono::steady_clock::now();
    std::vector<QByteArray> headerLines;
    for (auto _ : state) {
        auto trace = Tracing::RequestTrace::begin(f.exporter, settings, f.request,
                                                  {Runtime::Endpoint::ChatCompletions, "chat", 256, false, "req_0123456789abcdef",
                                                   QString(), receivedAt});
        if (!trace) {
            continue;
        }
        f.submitted += 2;
        headerLines.clear();
        const int attempt = trace->beginAttempt({&f.provider, &f.backend, "chat", Tracing::RequestTrace::AttemptKind::First,
                                                 false, 0},
                                                headerLines);
        trace->observeAnswer(ANSWER);
        Tracing::RequestTrace::AttemptEnd end;
        end.status = 200;
        end.ttftMs = 180.5;
        end.tokensIn = 812;
        end.tokensOut = 9;
        trace->endAttempt(attempt, end);
        Tracing::RequestTrace::Finish finish;
        finish.clientStatus = 200;
        finish.route = "chat";
        finish.routeReason = "route=chat strategy=p2c scores=gpu-1/llama-3.1-8b:0.31,gpu-2/llama-3.1-8b:0.52 "
                             "order=gpu-1/llama-3.1-8b>gpu-2/llama-3.1-8b; attempts=gpu-1/llama-3.1-8b:200";
        finish.backend = f.backend.label;
        finish.answeringAttempt = attempt;
        finish.attempts = 1;
        finish.tokensIn = 812;
        finish.tokensOut = 9;
        finish.ttftMs = 181.2;
        trace->finish(finish);
        benchmark::DoNotOptimize(headerLines.data());
    }
    // Untimed: let the exporter send everything before the next repetition.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (f.exporter.exportedSpans() + f.exporter.droppedExportFailed() + f.exporter.droppedQueueFull() <
               f.submitted && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    state.counters["dropped"] = static_cast<double>(f.exporter.droppedQueueFull() + f.exporter.droppedExportFailed());
    state.counters["exported"] = static_cast<double>(f.exporter.exportedSpans());
}

// Every request sampled: two spans per request.
void BM_TracedRequest(benchmark::State &state)
{
    tracedRequest(state, 1.0);
}

// sample_ratio 0: the decision alone (a trace id drawn and compared).
void BM_UnsampledRequest(benchmark::State &state)
{
    tracedRequest(state, 0.0);
}

} // namespace

BENCHMARK(BM_TracedRequest)->Iterations(REQUESTS_PER_REPETITION);
BENCHMARK(BM_UnsampledRequest)->Iterations(REQUESTS_PER_REPETITION);

int main(int argc, char **argv)
{
    // The collector stand-in is a Qt server on its own thread.
    QCoreApplication app {argc, argv};
    benchmark::Initialize(&argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
