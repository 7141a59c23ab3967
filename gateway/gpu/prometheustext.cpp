#include "gpu/prometheustext.h"

#include <charconv>
#include <cstring>
#include <system_error>

namespace Gateway::Gpu {

void PrometheusVisitor::help(QByteArrayView, QByteArrayView)
{
}

void PrometheusVisitor::type(QByteArrayView, MetricType)
{
}

namespace {

bool isBlank(char c)
{
    return c == ' ' || c == '\t';
}

bool isLetter(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool isDigit(char c)
{
    return c >= '0' && c <= '9';
}

bool isMetricNameStart(char c)
{
    return isLetter(c) || c == '_' || c == ':';
}

bool isLabelNameStart(char c)
{
    return isLetter(c) || c == '_';
}

// A position inside one line (the newline already cut off).
struct Cursor {
    const char *pos;
    const char *end;

    bool atEnd() const { return pos == end; }

    // True when at least one blank was skipped.
    bool skipBlanks()
    {
        const char *start = pos;
        while (pos != end && isBlank(*pos)) {
            ++pos;
        }
        return pos != start;
    }

    // Everything up to the next blank or the end of the line.
    QByteArrayView takeToken()
    {
        const char *start = pos;
        while (pos != end && !isBlank(*pos)) {
            ++pos;
        }
        return QByteArrayView(start, pos);
    }

    // [a-zA-Z_:][a-zA-Z0-9_:]*, or an empty view when the cursor is not on one.
    QByteArrayView takeMetricName()
    {
        const char *start = pos;
        if (pos == end || !isMetricNameStart(*pos)) {
            return {};
        }
        ++pos;
        while (pos != end && (isMetricNameStart(*pos) || isDigit(*pos))) {
            ++pos;
        }
        return QByteArrayView(start, pos);
    }
};

// One `name="value"` pair from `pos`, blanks allowed around the tokens. On success `pos`
// is just past the closing quote. Only the three escapes of the format are accepted.
bool readLabelPair(const char *&pos, const char *end, QByteArrayView &name, QByteArrayView &escapedValue)
{
    Cursor c {pos, end};
    c.skipBlanks();
    if (c.atEnd() || !isLabelNameStart(*c.pos)) {
        return false;
    }
    const char *nameStart = c.pos;
    ++c.pos;
    while (!c.atEnd() && (isLabelNameStart(*c.pos) || isDigit(*c.pos))) {
        ++c.pos;
    }
    name = QByteArrayView(nameStart, c.pos);
    c.skipBlanks();
    if (c.atEnd() || *c.pos != '=') {
        return false;
    }
    ++c.pos;
    c.skipBlanks();
    if (c.atEnd() || *c.pos != '"') {
        return false;
    }
    ++c.pos;
    const char *valueStart = c.pos;
    for (;;) {
        if (c.atEnd()) {
            return false; // unterminated value
        }
        const char ch = *c.pos;
        if (ch == '"') {
            break;
        }
        if (ch == '\\') {
            if (c.end - c.pos < 2) {
                return false;
            }
            const char escaped = c.pos[1];
            if (escaped != '\\' && escaped != '"' && escaped != 'n') {
                return false;
            }
            c.pos += 2;
        } else {
            ++c.pos;
        }
    }
    escapedValue = QByteArrayView(valueStart, c.pos);
    pos = c.pos + 1;
    return true;
}

// The label set after '{': checks it and returns the text up to the matching '}' (the
// cursor ends after it). A trailing comma is allowed, as in the reference parser.
bool takeLabels(Cursor &c, QByteArrayView &labels)
{
    const char *start = c.pos;
    for (;;) {
        c.skipBlanks();
        if (c.atEnd()) {
            return false;
        }
        if (*c.pos == '}') {
            labels = QByteArrayView(start, c.pos);
            ++c.pos;
            return true;
        }
        QByteArrayView name;
        QByteArrayView value;
        if (!readLabelPair(c.pos, c.end, name, value)) {
            return false;
        }
        c.skipBlanks();
        if (c.atEnd()) {
            return false;
        }
        if (*c.pos == ',') {
            ++c.pos;
        } else if (*c.pos != '}') {
            return false;
        }
    }
}

// Go's ParseFloat syntax as far as expositions use it: decimal and exponent notation,
// NaN, Inf, +Inf, -Inf (case-insensitive). from_chars rejects a leading '+' itself.
bool parseValue(QByteArrayView token, double &value)
{
    const char *first = token.data();
    const char *last = first + token.size();
    if (first != last && *first == '+') {
        ++first;
        if (first != last && (*first == '+' || *first == '-')) {
            return false;
        }
    }
    if (first == last) {
        return false;
    }
    const auto [ptr, ec] = std::from_chars(first, last, value);
    return ec == std::errc() && ptr == last;
}

bool parseTimestamp(QByteArrayView token, qint64 &timestampMs)
{
    const char *first = token.data();
    const char *last = first + token.size();
    if (first != last && *first == '+') {
        ++first;
    }
    if (first == last || *first == '+') {
        return false;
    }
    std::int64_t parsed = 0;
    const auto [ptr, ec] = std::from_chars(first, last, parsed);
    if (ec != std::errc() || ptr != last) {
        return false;
    }
    timestampMs = parsed;
    return true;
}

bool parseSampleLine(Cursor c, PrometheusVisitor &visitor)
{
    PrometheusSample sample;
    sample.name = c.takeMetricName();
    if (sample.name.isEmpty()) {
        return false;
    }
    const bool blankAfterName = c.skipBlanks();
    if (!c.atEnd() && *c.pos == '{') {
        ++c.pos;
        if (!takeLabels(c, sample.labels)) {
            return false;
        }
        c.skipBlanks();
    } else if (!blankAfterName) {
        return false; // the name runs into something that is neither '{' nor a blank
    }
    if (!parseValue(c.takeToken(), sample.value)) {
        return false;
    }
    c.skipBlanks();
    if (!c.atEnd()) {
        if (!parseTimestamp(c.takeToken(), sample.timestampMs)) {
            return false;
        }
        sample.hasTimestamp = true;
        c.skipBlanks();
        if (!c.atEnd()) {
            return false;
        }
    }
    visitor.sample(sample);
    return true;
}

bool typeFromToken(QByteArrayView token, MetricType &type)
{
    if (token == "counter") {
        type = MetricType::Counter;
    } else if (token == "gauge") {
        type = MetricType::Gauge;
    } else if (token == "histogram") {
        type = MetricType::Histogram;
    } else if (token == "summary") {
        type = MetricType::Summary;
    } else if (token == "untyped") {
        type = MetricType::Untyped;
    } else {
        return false;
    }
    return true;
}

// A line that starts with '#' (the cursor is after it). Comments other than HELP and
// TYPE are free text and always fine.
bool parseCommentLine(Cursor c, PrometheusVisitor &visitor)
{
    c.skipBlanks();
    const QByteArrayView keyword = c.takeToken();
    const bool isHelp = keyword == "HELP";
    if (!isHelp && keyword != "TYPE") {
        return true;
    }
    if (!c.skipBlanks()) {
        return false; // "# HELP" with nothing after it
    }
    const QByteArrayView family = c.takeMetricName();
    if (family.isEmpty() || (!c.atEnd() && !isBlank(*c.pos))) {
        return false;
    }
    c.skipBlanks();
    if (isHelp) {
        visitor.help(family, QByteArrayView(c.pos, c.end));
        return true;
    }
    MetricType type = MetricType::Untyped;
    if (!typeFromToken(c.takeToken(), type)) {
        return false;
    }
    c.skipBlanks();
    if (!c.atEnd()) {
        return false;
    }
    visitor.type(family, type);
    return true;
}

} // namespace

PrometheusParseResult parsePrometheusText(QByteArrayView text, PrometheusVisitor &visitor)
{
    PrometheusParseResult result;
    const char *pos = text.data();
    const char *const end = pos + text.size();
    qsizetype lineNumber = 0;
    while (pos < end) {
        const auto *newline = static_cast<const char *>(std::memchr(pos, '\n', static_cast<std::size_t>(end - pos)));
        const char *lineEnd = newline ? newline : end;
        ++lineNumber;
        Cursor line {pos, lineEnd};
        pos = newline ? newline + 1 : end;

        if (line.pos != line.end && line.end[-1] == '\r') {
            --line.end; // tolerate CRLF line ends
        }
        line.skipBlanks();
        if (line.atEnd()) {
            continue;
        }
        bool wellFormed = true;
        if (*line.pos == '#') {
            ++line.pos;
            wellFormed = parseCommentLine(line, visitor);
        } else {
            wellFormed = parseSampleLine(line, visitor);
            if (wellFormed) {
                ++result.samples;
            }
        }
        if (!wellFormed) {
            ++result.malformedLines;
            if (result.firstMalformedLine == 0) {
                result.firstMalformedLine = lineNumber;
            }
        }
    }
    return result;
}

LabelCursor::LabelCursor(QByteArrayView labels)
    : m_pos {labels.data()}
    , m_end {labels.data() + labels.size()}
{
}

bool LabelCursor::next(QByteArrayView &name, QByteArrayView &escapedValue)
{
    while (m_pos != m_end && (isBlank(*m_pos) || *m_pos == ',')) {
        ++m_pos;
    }
    if (m_pos == m_end) {
        return false;
    }
    if (!readLabelPair(m_pos, m_end, name, escapedValue)) {
        m_pos = m_end; // not text the parser accepted: stop rather than guess
        return false;
    }
    return true;
}

std::optional<QByteArrayView> findLabel(QByteArrayView labels, QByteArrayView name)
{
    LabelCursor cursor {labels};
    QByteArrayView labelName;
    QByteArrayView value;
    while (cursor.next(labelName, value)) {
        if (labelName == name) {
            return value;
        }
    }
    return std::nullopt;
}

QByteArray unescapePrometheus(QByteArrayView escaped)
{
    QByteArray out;
    out.reserve(escaped.size());
    for (qsizetype i = 0; i < escaped.size(); ++i) {
        const char c = escaped[i];
        if (c == '\\' && i + 1 < escaped.size()) {
            const char next = escaped[i + 1];
            if (next == '\\' || next == '"') {
                out.append(next);
                ++i;
                continue;
            }
            if (next == 'n') {
                out.append('\n');
                ++i;
                continue;
            }
        }
        out.append(c);
    }
    return out;
}

} // namespace Gateway::Gpu
