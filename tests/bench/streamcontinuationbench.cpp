// What keeping a stream's answer text costs per SSE event (docs/BENCHMARKS.md, "Stream
// text per event"). Every streamed answer the gateway forwards goes through
// StreamContinuation::observe(): one simdjson DOM pass per event to take the delta text
// out (resumption and exact settle need only the text). It replaced keeping a copy of
// every event, which is what BM_KeepEventCopy measures; BM_SplitEvents is the work every
// stream already did per event before either (finding the event boundaries), as a yard
// stick. One iteration is one event; a stream is 1,000 events, and a new stream starts
// every 1,000 iterations, so the kept text grows as it does in a real answer.

#include "proxy/sseeventsplitter.h"
#include "proxy/streamcontinuation.h"

#include <benchmark/benchmark.h>

#include <QByteArray>

#include <memory>

using Gateway::Proxy::SseEventSplitter;
using Gateway::Proxy::StreamContinuation;

namespace {

constexpr int EVENTS_PER_STREAM = 1000;

// A vLLM chat chunk as it arrives (one token of text), and Anthropic's text delta.
const QByteArray OPENAI_EVENT =
    R"(data: {"id":"chatcmpl-9f2c41d07a5b4c1e8d3f","object":"chat.completion.chunk","created":1795305600,)"
    R"("model":"meta-llama/Llama-3.1-8B-Instruct","choices":[{"index":0,"delta":{"content":" gateway"},)"
    R"("logprobs":null,"finish_reason":null}]})"
    "\n\n";
const QByteArray ANTHROPIC_EVENT =
    "event: content_block_delta\n"
    R"(data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" gateway"}})"
    "\n\n";

void observeEvents(benchmark::State &state, const QByteArray &event, StreamContinuation::Format format)
{
    auto stream = std::make_unique<StreamContinuation>(format);
    int events = 0;
    for (auto _ : state) {
        stream->observe(event);
        if (++events == EVENTS_PER_STREAM) {
            benchmark::DoNotOptimize(stream->partialText().size());
            stream = std::make_unique<StreamContinuation>(format);
            events = 0;
        }
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * event.size());
}

void BM_ObserveOpenAi(benchmark::State &state)
{
    observeEvents(state, OPENAI_EVENT, StreamContinuation::Format::OpenAi);
}

void BM_ObserveAnthropic(benchmark::State &state)
{
    observeEvents(state, ANTHROPIC_EVENT, StreamContinuation::Format::Anthropic);
}

// The replaced approach: a copy of each event kept for the length of the stream.
void BM_KeepEventCopy(benchmark::State &state)
{
    auto kept = std::make_unique<QByteArray>();
    int events = 0;
    for (auto _ : state) {
        kept->append(OPENAI_EVENT);
        if (++events == EVENTS_PER_STREAM) {
            benchmark::DoNotOptimize(kept->size());
            kept = std::make_unique<QByteArray>();
            events = 0;
        }
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * OPENAI_EVENT.size());
}

// Finding the event in the upstream bytes, which every stream pays anyway.
void BM_SplitEvents(benchmark::State &state)
{
    SseEventSplitter splitter;
    std::size_t seen = 0;
    const SseEventSplitter::EventCallback count = [&seen](QByteArrayView event) { seen += event.size(); };
    for (auto _ : state) {
        splitter.feed(OPENAI_EVENT, count);
    }
    benchmark::DoNotOptimize(seen);
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * OPENAI_EVENT.size());
}

} // namespace

BENCHMARK(BM_SplitEvents);
BENCHMARK(BM_KeepEventCopy);
BENCHMARK(BM_ObserveOpenAi);
BENCHMARK(BM_ObserveAnthropic);

BENCHMARK_MAIN();
