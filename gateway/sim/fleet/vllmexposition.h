#pragma once

#include "servermodel.h"

#include <QByteArray>
#include <QByteArrayView>

namespace Gateway::Sim::Fleet {

// A simulated server's state as a Prometheus text exposition with vLLM V1 metric names
// and meanings (vllm/v1/metrics/loggers.py), so the same model can answer a real
// /metrics scrape and be parsed by the same code that reads real engines:
//   vllm:num_requests_running, vllm:num_requests_waiting (gauges)
//   vllm:kv_cache_usage_perc (gauge, a fraction: 1 = 100%)
//   vllm:prefix_cache_queries_total, vllm:prefix_cache_hits_total (counters, tokens)
//   vllm:cache_config_info{block_size,num_gpu_blocks} (info gauge, value 1)
// Every series carries model_name and engine labels, as V1 does.
QByteArray renderVllmMetrics(const ServerStatus &status, QByteArrayView modelName);

} // namespace Gateway::Sim::Fleet
