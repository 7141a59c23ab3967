#pragma once

#include <QByteArray>
#include <QByteArrayView>

#include <cstdint>
#include <optional>

namespace Gateway::Gpu {

// Reader of the Prometheus text exposition format, version 0.0.4
// (https://prometheus.io/docs/instrumenting/exposition_formats/):
//
//   # HELP <family> <docstring>
//   # TYPE <family> counter|gauge|histogram|summary|untyped
//   <name>[{<label>="<value>",...}] <value> [<timestamp ms>]
//
// Built for scraping inference engines several times a second: one pass over the
// buffer, no regex, no allocation per sample. Every view handed to the visitor points
// into the caller's buffer. A malformed line is skipped and counted; it never stops the
// parse, because one odd series from an engine must not hide the others.

enum class MetricType : std::uint8_t { Untyped, Counter, Gauge, Histogram, Summary };

// One sample line. `labels` is the text between the braces, already checked to be
// well-formed (walk it with LabelCursor or findLabel); label values are still escaped.
struct PrometheusSample {
    QByteArrayView name;
    QByteArrayView labels;
    double value = 0.0;
    bool hasTimestamp = false;
    qint64 timestampMs = 0;
};

// Receives the content of an exposition in document order. Only sample() is required.
class PrometheusVisitor {
public:
    virtual ~PrometheusVisitor() = default;
    virtual void sample(const PrometheusSample &sample) = 0;
    // `escapedText` keeps the \\ and \n escapes of the format (unescapePrometheus resolves them).
    virtual void help(QByteArrayView family, QByteArrayView escapedText);
    virtual void type(QByteArrayView family, MetricType type);
};

struct PrometheusParseResult {
    qsizetype samples = 0;          // sample lines handed to the visitor
    qsizetype malformedLines = 0;   // lines skipped because they break the format
    qsizetype firstMalformedLine = 0; // 1-based line number of the first one; 0 = none
};

PrometheusParseResult parsePrometheusText(QByteArrayView text, PrometheusVisitor &visitor);

// Walks the label pairs of PrometheusSample::labels in order.
class LabelCursor {
public:
    explicit LabelCursor(QByteArrayView labels);
    // The next pair; false when there are no more. `escapedValue` excludes the quotes.
    bool next(QByteArrayView &name, QByteArrayView &escapedValue);

private:
    const char *m_pos;
    const char *m_end;
};

// The escaped value of the first label called `name`; nullopt when the sample has none.
std::optional<QByteArrayView> findLabel(QByteArrayView labels, QByteArrayView name);

// Resolves the escapes of a label value or HELP text: \\ -> \, \" -> ", \n -> newline.
// Any other backslash is kept as it is.
QByteArray unescapePrometheus(QByteArrayView escaped);

} // namespace Gateway::Gpu
