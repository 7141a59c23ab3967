#include "vllmexposition.h"

#include <QStringBuilder>

#include <string_view>

namespace Gateway::Sim::Fleet {

namespace {

void series(QByteArray &out, const char *name, const char *type, const char *help, const QByteArray &labels,
            const QByteArray &value)
{
    out += "# HELP ";
    out += name;
    out += ' ';
    out += help;
    out += "\n# TYPE ";
    out += name;
    out += ' ';
    out += type;
    out += '\n';
    out += name;
    if (std::string_view(type) == "counter") {
        out += "_total";
    }
    out += '{';
    out += labels;
    out += "} ";
    out += value;
    out += '\n';
}

} // namespace

QByteArray renderVllmMetrics(const ServerStatus &status, QByteArrayView modelName)
{
    const QByteArray labels = QByteArrayLiteral("engine=\"0\",model_name=\"") + modelName.toByteArray() + '"';
    QByteArray out;
    series(out, "vllm:num_requests_running", "gauge", "Number of requests in model execution batches.", labels,
           QByteArray::number(status.running));
    series(out, "vllm:num_requests_waiting", "gauge", "Number of requests waiting to be processed.", labels,
           QByteArray::number(status.waiting));
    series(out, "vllm:kv_cache_usage_perc", "gauge", "KV-cache usage. 1 means 100 percent usage.", labels,
           QByteArray::number(status.kvCacheUsage, 'g', 17));
    series(out, "vllm:prefix_cache_queries", "counter", "Prefix cache queries, in terms of number of queried tokens.",
           labels, QByteArray::number(status.processPrefixCacheQueries));
    series(out, "vllm:prefix_cache_hits", "counter", "Prefix cache hits, in terms of number of cached tokens.", labels,
           QByteArray::number(status.processPrefixCacheHits));
    const QByteArray info = QByteArrayLiteral("block_size=\"") + QByteArray::number(status.blockSize) + "\",engine=\"0\",model_name=\""
        + modelName.toByteArray() + "\",num_gpu_blocks=\"" + QByteArray::number(status.numGpuBlocks) + '"';
    series(out, "vllm:cache_config_info", "gauge", "Information of the LLMEngine CacheConfig", info, "1");
    return out;
}

} // namespace Gateway::Sim::Fleet
