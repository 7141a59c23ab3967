#include "gpu/enginemetrics.h"

#include "gpu/prometheustext.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <system_error>

namespace Gateway::Gpu {

QByteArrayView engineKindName(EngineKind kind)
{
    switch (kind) {
    case EngineKind::Vllm:
        return "vllm";
    case EngineKind::Sglang:
        return "sglang";
    case EngineKind::Tgi:
        return "tgi";
    case EngineKind::LlamaCpp:
        return "llamacpp";
    case EngineKind::Unknown:
        break;
    }
    return "unknown";
}

namespace {

// What a series contributes to. UsedTokens and MaxTokens only back up KvUsage and the
// cache geometry for SGLang builds without token_usage or cache_config_info.
enum class Field : std::uint8_t {
    Waiting,
    Running,
    KvUsage,
    PrefixHits,
    PrefixQueries,
    HitRate,
    PromptTokens,
    GenerationTokens,
    UsedTokens,
    MaxTokens,
};

bool isFraction(Field field)
{
    return field == Field::KvUsage || field == Field::HitRate;
}

struct SeriesName {
    EngineKind engine;
    QByteArrayView name; // counters without their `_total` suffix
    Field field;
    int preference;      // when several names feed one field, the highest present wins
    bool counter;
};

constexpr int CURRENT = 2;
constexpr int DEPRECATED = 1;

constexpr std::array SERIES {
    SeriesName {EngineKind::Vllm, "vllm:num_requests_waiting", Field::Waiting, CURRENT, false},
    SeriesName {EngineKind::Vllm, "vllm:num_requests_running", Field::Running, CURRENT, false},
    SeriesName {EngineKind::Vllm, "vllm:kv_cache_usage_perc", Field::KvUsage, CURRENT, false},
    SeriesName {EngineKind::Vllm, "vllm:gpu_cache_usage_perc", Field::KvUsage, DEPRECATED, false},
    SeriesName {EngineKind::Vllm, "vllm:prefix_cache_hits", Field::PrefixHits, CURRENT, true},
    SeriesName {EngineKind::Vllm, "vllm:gpu_prefix_cache_hits", Field::PrefixHits, DEPRECATED, true},
    SeriesName {EngineKind::Vllm, "vllm:prefix_cache_queries", Field::PrefixQueries, CURRENT, true},
    SeriesName {EngineKind::Vllm, "vllm:gpu_prefix_cache_queries", Field::PrefixQueries, DEPRECATED, true},
    SeriesName {EngineKind::Vllm, "vllm:gpu_prefix_cache_hit_rate", Field::HitRate, DEPRECATED, false},
    SeriesName {EngineKind::Vllm, "vllm:prompt_tokens", Field::PromptTokens, CURRENT, true},
    SeriesName {EngineKind::Vllm, "vllm:generation_tokens", Field::GenerationTokens, CURRENT, true},

    SeriesName {EngineKind::Sglang, "sglang:num_queue_reqs", Field::Waiting, CURRENT, false},
    SeriesName {EngineKind::Sglang, "sglang:num_running_reqs", Field::Running, CURRENT, false},
    SeriesName {EngineKind::Sglang, "sglang:token_usage", Field::KvUsage, CURRENT, false},
    SeriesName {EngineKind::Sglang, "sglang:num_used_tokens", Field::UsedTokens, CURRENT, false},
    SeriesName {EngineKind::Sglang, "sglang:max_total_num_tokens", Field::MaxTokens, CURRENT, false},
    SeriesName {EngineKind::Sglang, "sglang:cache_hit_rate", Field::HitRate, CURRENT, false},
    // Cached prompt tokens out of all prompt tokens: SGLang's prefix-cache counters.
    SeriesName {EngineKind::Sglang, "sglang:cached_tokens", Field::PrefixHits, CURRENT, true},
    SeriesName {EngineKind::Sglang, "sglang:prompt_tokens", Field::PrefixQueries, CURRENT, true},
    SeriesName {EngineKind::Sglang, "sglang:prompt_tokens", Field::PromptTokens, CURRENT, true},
    SeriesName {EngineKind::Sglang, "sglang:generation_tokens", Field::GenerationTokens, CURRENT, true},

    SeriesName {EngineKind::Tgi, "tgi_queue_size", Field::Waiting, CURRENT, false},
    SeriesName {EngineKind::Tgi, "tgi_batch_current_size", Field::Running, CURRENT, false},
    SeriesName {EngineKind::Tgi, "tgi_request_input_length_sum", Field::PromptTokens, CURRENT, false},
    SeriesName {EngineKind::Tgi, "tgi_request_generated_tokens_sum", Field::GenerationTokens, CURRENT, false},

    SeriesName {EngineKind::LlamaCpp, "llamacpp:requests_deferred", Field::Waiting, CURRENT, false},
    SeriesName {EngineKind::LlamaCpp, "llamacpp:requests_processing", Field::Running, CURRENT, false},
    SeriesName {EngineKind::LlamaCpp, "llamacpp:kv_cache_usage_ratio", Field::KvUsage, DEPRECATED, false},
    SeriesName {EngineKind::LlamaCpp, "llamacpp:prompt_tokens", Field::PromptTokens, CURRENT, true},
    SeriesName {EngineKind::LlamaCpp, "llamacpp:tokens_predicted", Field::GenerationTokens, CURRENT, true},
};

// Info-style series whose labels carry the KV-cache geometry (the sample value is 1).
struct GeometryName {
    EngineKind engine;
    QByteArrayView name;
    QByteArrayView blockSizeLabel;
    QByteArrayView blocksLabel;
};

constexpr std::array GEOMETRY {
    GeometryName {EngineKind::Vllm, "vllm:cache_config_info", "block_size", "num_gpu_blocks"},
    GeometryName {EngineKind::Sglang, "sglang:cache_config_info", "page_size", "num_pages"},
};

struct EnginePrefix {
    EngineKind engine;
    QByteArrayView prefix;
};

constexpr std::array PREFIXES {
    EnginePrefix {EngineKind::Vllm, "vllm:"},
    EnginePrefix {EngineKind::Sglang, "sglang:"},
    EnginePrefix {EngineKind::Tgi, "tgi_"},
    EnginePrefix {EngineKind::LlamaCpp, "llamacpp:"},
};

constexpr QByteArrayView TOTAL_SUFFIX = "_total";

bool nameMatches(const SeriesName &series, QByteArrayView name)
{
    if (name == series.name) {
        return true;
    }
    return series.counter && name.size() == series.name.size() + TOTAL_SUFFIX.size()
        && name.startsWith(series.name) && name.endsWith(TOTAL_SUFFIX);
}

// The largest cache size (blocks or tokens) taken at face value: 2^53, beyond which a
// double no longer holds every whole number and no GPU pool comes near. Larger reports
// are nonsense, "unknown" rather than a number that overflows on its way to an integer.
constexpr double MAX_CACHE_COUNT = 9007199254740992.0;

// A positive whole number in a label value ("16", "27616", also "16.0"); 0 for anything
// else, such as vLLM's "None" before the blocks are known.
std::int64_t labelCount(QByteArrayView labels, QByteArrayView name)
{
    const std::optional<QByteArrayView> text = findLabel(labels, name);
    if (!text || text->isEmpty()) {
        return 0;
    }
    double value = 0.0;
    const char *last = text->data() + text->size();
    const auto [ptr, ec] = std::from_chars(text->data(), last, value);
    if (ec != std::errc() || ptr != last || !(value > 0.0) || value > MAX_CACHE_COUNT || value != std::floor(value)) {
        return 0;
    }
    return static_cast<std::int64_t>(value);
}

// Engines report -1 for a rate they do not compute (vLLM V0 with prefix caching off):
// that is "not reported", not 0%. Values a little above 1 (rounding) are clamped.
std::optional<double> asFraction(std::optional<double> value)
{
    if (!value || *value < 0.0) {
        return std::nullopt;
    }
    return std::min(*value, 1.0);
}

class EngineMetricsReader final : public PrometheusVisitor {
public:
    void sample(const PrometheusSample &sample) override
    {
        if (m_engine == EngineKind::Unknown && !detectEngine(sample.name)) {
            return; // process_*, python_gc_* and the like come before the engine's own
        }
        if (!sample.name.startsWith(m_prefix)) {
            return;
        }
        if (readGeometry(sample)) {
            return;
        }
        if (!std::isfinite(sample.value)) {
            return;
        }
        for (std::size_t i = 0; i < SERIES.size(); ++i) {
            if (SERIES[i].engine == m_engine && nameMatches(SERIES[i], sample.name)) {
                // Fractions: -1 = "not computed", which must not drag the average of other
                // engines. Counts and counters cannot be negative either: a server that says
                // so is broken, and a negative queue would make it the router's favourite.
                if (sample.value < 0.0) {
                    continue;
                }
                m_sums[i] += sample.value;
                ++m_counts[i];
            }
        }
    }

    EngineSample result(qsizetype malformedLines) const
    {
        EngineSample out;
        out.engine = m_engine;
        out.malformedLines = malformedLines;
        out.waitingRequests = resolve(Field::Waiting);
        out.runningRequests = resolve(Field::Running);
        out.kvCacheUsage = resolve(Field::KvUsage);
        const std::optional<double> usedTokens = resolve(Field::UsedTokens);
        const std::optional<double> maxTokens = resolve(Field::MaxTokens);
        if (!out.kvCacheUsage && usedTokens && maxTokens && *maxTokens > 0.0) {
            out.kvCacheUsage = *usedTokens / *maxTokens;
        }
        out.kvCacheUsage = asFraction(out.kvCacheUsage);
        out.prefixCacheHits = resolve(Field::PrefixHits);
        out.prefixCacheQueries = resolve(Field::PrefixQueries);
        out.prefixCacheHitRate = asFraction(resolve(Field::HitRate));
        out.promptTokens = resolve(Field::PromptTokens);
        out.generationTokens = resolve(Field::GenerationTokens);
        out.cacheBlockSize = m_blockSize;
        out.cacheBlocks = m_blocks;
        if (m_blockSize == 0 && m_blocks == 0 && m_engine == EngineKind::Sglang && maxTokens && *maxTokens >= 1.0 &&
            *maxTokens <= MAX_CACHE_COUNT) {
            out.cacheBlockSize = 1;
            out.cacheBlocks = std::llround(*maxTokens);
        }
        return out;
    }

private:
    bool detectEngine(QByteArrayView name)
    {
        for (const EnginePrefix &candidate : PREFIXES) {
            if (name.startsWith(candidate.prefix)) {
                m_engine = candidate.engine;
                m_prefix = candidate.prefix;
                return true;
            }
        }
        return false;
    }

    bool readGeometry(const PrometheusSample &sample)
    {
        for (const GeometryName &geometry : GEOMETRY) {
            if (geometry.engine != m_engine || sample.name != geometry.name) {
                continue;
            }
            const std::int64_t blockSize = labelCount(sample.labels, geometry.blockSizeLabel);
            if (m_blockSize == 0) {
                m_blockSize = blockSize;
            }
            // One series per data-parallel engine; each is at most MAX_CACHE_COUNT, so the
            // sum cannot overflow before it is capped.
            m_blocks = std::min(m_blocks + labelCount(sample.labels, geometry.blocksLabel),
                                static_cast<std::int64_t>(MAX_CACHE_COUNT));
            return true;
        }
        return false;
    }

    std::optional<double> resolve(Field field) const
    {
        std::optional<std::size_t> best;
        for (std::size_t i = 0; i < SERIES.size(); ++i) {
            if (SERIES[i].engine == m_engine && SERIES[i].field == field && m_counts[i] > 0
                && (!best || SERIES[i].preference > SERIES[*best].preference)) {
                best = i;
            }
        }
        if (!best) {
            return std::nullopt;
        }
        const double sum = m_sums[*best];
        if (!std::isfinite(sum)) {
            return std::nullopt; // finite samples that overflowed when summed
        }
        return isFraction(field) ? sum / m_counts[*best] : sum;
    }

    EngineKind m_engine = EngineKind::Unknown;
    QByteArrayView m_prefix;
    std::array<double, SERIES.size()> m_sums {};
    std::array<int, SERIES.size()> m_counts {};
    std::int64_t m_blockSize = 0;
    std::int64_t m_blocks = 0;
};

} // namespace

EngineSample readEngineMetrics(QByteArrayView exposition)
{
    EngineMetricsReader reader;
    const PrometheusParseResult parsed = parsePrometheusText(exposition, reader);
    return reader.result(parsed.malformedLines);
}

} // namespace Gateway::Gpu
