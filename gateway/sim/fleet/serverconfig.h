#pragma once

#include "simtime.h"

#include <algorithm>
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

    // Disaggregated serving: a decode request whose prompt was prefilled elsewhere pulls
    // the KV blocks it does not hold itself before it can run: kvTransferBase +
    // kvTransferPerToken * tokens pulled, microseconds. 10 us per token: Llama-3.1-8B's
    // 128 KiB of KV per token over a 100 Gb/s RDMA link (NIXL); 1 ms of setup.
    double kvTransferBase = 1000.0;
    double kvTransferPerToken = 10.0;

    SimTime admissionDelay(int promptTokens) const
    {
        return static_cast<SimTime>(std::llround(alpha0 + alpha1 * promptTokens));
    }

    SimTime kvTransferTime(int tokens) const
    {
        return static_cast<SimTime>(std::llround(kvTransferBase + kvTransferPerToken * std::max(0, tokens)));
    }
};

} // namespace Gateway::Sim::Fleet
