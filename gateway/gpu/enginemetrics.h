#pragma once

#include <QByteArrayView>

#include <cstdint>
#include <optional>

namespace Gateway::Gpu {

enum class EngineKind : std::uint8_t { Unknown, Vllm, Sglang, Tgi, LlamaCpp };

// Lower-case name for logs and metric labels: "vllm", "sglang", "tgi", "llamacpp", "unknown".
QByteArrayView engineKindName(EngineKind kind);

// What one /metrics exposition says, in engine-neutral terms. A field is empty when the
// engine (or its version) does not export it. When an engine runs several series of a
// family (data-parallel engines labelled `engine`, several `model_name`s), counts and
// counters are summed and fractions averaged.
struct EngineSample {
    EngineKind engine = EngineKind::Unknown; // from the metric prefix (vllm:, sglang:, tgi_, llamacpp:)
    std::optional<double> waitingRequests;
    std::optional<double> runningRequests;
    std::optional<double> kvCacheUsage;       // fraction 0..1 of KV-cache memory in use
    // Cumulative prefix-cache counters in tokens: `hits` of the `queries` were already cached.
    std::optional<double> prefixCacheHits;
    std::optional<double> prefixCacheQueries;
    // The hit rate as the engine itself computes it (vLLM V0, SGLang), for engines without
    // the counters above; fraction 0..1.
    std::optional<double> prefixCacheHitRate;
    std::int64_t cacheBlockSize = 0;          // tokens per KV block (page); 0 = unknown
    std::int64_t cacheBlocks = 0;             // KV blocks (pages) on the GPUs; 0 = unknown
    std::optional<double> promptTokens;       // cumulative
    std::optional<double> generationTokens;   // cumulative
    qsizetype malformedLines = 0;             // lines of the exposition the parser skipped
};

// Reads one exposition. Engine names by version:
//   vLLM V1 >= 0.9.2: vllm:kv_cache_usage_perc, vllm:prefix_cache_{queries,hits}_total;
//     older V1 names vllm:gpu_cache_usage_perc and vllm:gpu_prefix_cache_{queries,hits}_total
//     (deprecated in 0.9.2, hidden in 0.11) are read when the new ones are absent;
//     V0 reports only the gauge vllm:gpu_prefix_cache_hit_rate.
//     Geometry from the labels of vllm:cache_config_info{block_size, num_gpu_blocks}.
//   SGLang: sglang:num_running_reqs, num_queue_reqs, token_usage (else num_used_tokens /
//     max_total_num_tokens), cache_hit_rate, cached_tokens_total over prompt_tokens_total;
//     geometry from sglang:cache_config_info{page_size, num_pages}, else
//     max_total_num_tokens as pages of one token (SGLang's default page size).
//   TGI: tgi_queue_size, tgi_batch_current_size; token totals from the _sum of the
//     tgi_request_input_length and tgi_request_generated_tokens histograms.
//   llama.cpp: llamacpp:requests_processing, requests_deferred, kv_cache_usage_ratio (older
//     builds), prompt_tokens_total, tokens_predicted_total.
// Counters are matched with or without the `_total` suffix. NaN, infinite and negative
// values are ignored, as if the series were absent (a negative queue or counter only comes
// from a broken server, and would make it the router's favourite).
EngineSample readEngineMetrics(QByteArrayView exposition);

} // namespace Gateway::Gpu
