#pragma once

#include "simtime.h"

#include <cmath>
#include <cstdint>

namespace Gateway::Sim::Fleet {

// Duration of one engine step (one forward pass of the running batch), BLIS's
// "blackbox" linear model: t = beta0 + beta1 * (uncached prefill tokens in the step)
// + beta2 * (decode tokens in the step), in microseconds. Defaults: Llama-3.1-8B-Instruct
// on one H100 (TP1, vLLM 0.8.4), inference-sim defaults.yaml. The model is blind to
// context length (attention cost); we claim direction and ranking, not absolute latency.
struct StepCoefficients {
    double beta0 = 5752.7;
    double beta1 = 17.25;
    double beta2 = 6.00;

    SimTime stepTime(std::int64_t prefillTokens, std::int64_t decodeTokens) const
    {
        return static_cast<SimTime>(std::llround(beta0 + beta1 * static_cast<double>(prefillTokens)
                                                 + beta2 * static_cast<double>(decodeTokens)));
    }
};

// One simulated server's engine configuration (vLLM V1 names in comments).
struct ServerConfig {
    int blockSize = 16;               // --block-size (tokens per KV block)
    int numGpuBlocks = 29205;         // KV blocks on the GPU (same BLIS profile)
    int maxNumSeqs = 256;             // --max-num-seqs: cap on the running batch
    int maxNumBatchedTokens = 8192;   // --max-num-batched-tokens: token budget per step
    StepCoefficients step;
    // Per-request overhead before the request joins the waiting queue (tokenisation,
    // input processing): alpha0 + alpha1 * prompt tokens, microseconds (BLIS alpha terms
    // of the same profile).
    double alpha0 = 232.46;
    double alpha1 = 1.75;

    SimTime admissionDelay(int promptTokens) const
    {
        return static_cast<SimTime>(std::llround(alpha0 + alpha1 * promptTokens));
    }
};

} // namespace Gateway::Sim::Fleet
