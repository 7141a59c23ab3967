// Prometheus text parsing (Gateway::Gpu::parsePrometheusText) and the engine readers on
// top of it, which read whatever a GPU server's /metrics returns several times a second.
// Properties: every view handed to the visitor lies inside the input; label lists the
// parser calls well-formed can be walked to their end; reading engine metrics never
// crashes and yields finite, non-negative gauges.
#include "fuzzinput.h"

#include "gpu/enginemetrics.h"
#include "gpu/prometheustext.h"

#include <cmath>

namespace {

using namespace Gateway::Gpu;

class CheckingVisitor final : public PrometheusVisitor {
public:
    explicit CheckingVisitor(QByteArrayView text)
        : m_text {text}
    {
    }

    void sample(const PrometheusSample &sample) override
    {
        inside(sample.name);
        inside(sample.labels);
        if (sample.name.isEmpty()) {
            Fuzz::fail("sample without a name");
        }
        LabelCursor cursor {sample.labels};
        QByteArrayView name;
        QByteArrayView value;
        int pairs = 0;
        while (cursor.next(name, value)) {
            inside(name);
            inside(value);
            if (name.isEmpty() || ++pairs > sample.labels.size()) {
                Fuzz::fail("label walk does not advance");
            }
            (void)unescapePrometheus(value);
        }
        ++samples;
    }
    void help(QByteArrayView family, QByteArrayView escapedText) override
    {
        inside(family);
        inside(escapedText);
        (void)unescapePrometheus(escapedText);
    }
    void type(QByteArrayView family, MetricType) override { inside(family); }

    qsizetype samples = 0;

private:
    void inside(QByteArrayView view) const
    {
        if (view.isEmpty()) {
            return;
        }
        if (view.data() < m_text.data() || view.data() + view.size() > m_text.data() + m_text.size()) {
            Fuzz::fail("a view points outside the input");
        }
    }

    QByteArrayView m_text;
};

void finiteGauge(double value, const char *what)
{
    if (!std::isfinite(value) || value < 0) {
        Fuzz::fail(what);
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    const QByteArrayView text {reinterpret_cast<const char *>(data), static_cast<qsizetype>(size)};
    CheckingVisitor visitor {text};
    const PrometheusParseResult result = parsePrometheusText(text, visitor);
    if (result.samples != visitor.samples || result.malformedLines < 0 ||
        (result.malformedLines > 0) != (result.firstMalformedLine > 0)) {
        Fuzz::fail("parse result disagrees with what was visited");
    }
    // A server that reports nonsense (negative queue, 1e308 summed to infinity) must not
    // hand the router a value it would rank by.
    const EngineSample engine = readEngineMetrics(text);
    for (const auto &field : {engine.waitingRequests, engine.runningRequests, engine.prefixCacheHits,
                              engine.prefixCacheQueries, engine.promptTokens, engine.generationTokens}) {
        if (field) {
            finiteGauge(*field, "an engine count or counter is negative or not finite");
        }
    }
    for (const auto &fraction : {engine.kvCacheUsage, engine.prefixCacheHitRate}) {
        if (fraction && !(*fraction >= 0.0 && *fraction <= 1.0)) {
            Fuzz::fail("an engine fraction is outside [0, 1]");
        }
    }
    if (engine.cacheBlockSize < 0 || engine.cacheBlocks < 0) {
        Fuzz::fail("negative cache geometry");
    }
    return 0;
}
