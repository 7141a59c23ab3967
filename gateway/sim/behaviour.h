#pragma once

#include <QByteArray>

#include <QtGlobal>

namespace Gateway::Sim {

// How a simulated upstream misbehaves and how fast it "generates". Copied under a
// mutex at the start of each request, so a change affects requests that start later.
// All timings default to zero: tests get immediate answers without any timer.
struct Behaviour {
    // Timing, as a GPU server would show it.
    int headerDelayMs = 0;             // before anything at all is written
    int ttftBaseMs = 0;                // time to first token, fixed part
    double ttftPerPromptTokenMs = 0.0; // prefill cost per prompt token
    int interTokenMs = 0;              // decode time per further token

    // Failures. Deterministic counts come first, then the seeded random rates.
    int failNextRequests = 0;    // the next N inference requests get errorStatus
    double errorRate = 0.0;      // 0..1, answered with errorStatus
    int errorStatus = 500;
    // The message of those failures; empty = a fixed text. Tests use it for providers
    // that quote the request back in their errors.
    QByteArray errorMessage;
    double rateLimitRate = 0.0;  // 0..1, answered 429 with Retry-After
    int retryAfterSeconds = 1;
    // Requests presenting this API key (Authorization: Bearer or x-api-key) always get
    // 429 with Retry-After: one exhausted key among several.
    QByteArray rateLimitedKey;
    // Requests presenting this API key get 401: a revoked key among several.
    QByteArray rejectedKey;
    int resetAfterChunks = -1;      // abort the connection after this many SSE events; -1 off
    int holdStreamAfterChunks = -1; // pause after this many events until releaseHeldStreams(); -1 off

    // > 0: prompt tokens + max_tokens beyond this are refused with 400 and a
    // "maximum context length" message, as vLLM and OpenAI phrase it.
    int contextWindowTokens = 0;

    // Generation size.
    int defaultMaxTokens = 16;   // when the request sets no limit; ends with "stop"
    int maxTokensCap = 4096;     // a request never gets more than this
    int stopAfterTokens = -1;    // >= 0: the model "stops naturally" after this many tokens

    // Reported load (GET /metrics).
    qint64 capacityTokens = 65536; // KV cache size; usage = tokens held in flight / this
    int maxRunningRequests = 0;    // > 0: in-flight requests beyond this report as waiting
};

} // namespace Gateway::Sim
