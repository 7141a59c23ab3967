#include "requestlog.h"

#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QList>

#include <algorithm>
#include <cmath>
#include <map>
#include <unordered_map>

namespace Gateway::Sim::Fleet {

namespace {

struct Row {
    int line = 0;
    double arrivalMs = 0.0;
    int promptTokens = 0;
    int outputTokens = 0;
    int prefixGroup = -1;
    QByteArray session;
    int prefixTokens = -1;
};

enum SpanTag : std::uint64_t { SYSTEM = 11, FRESH, ANSWER };

QString lineError(int line, const QString &what)
{
    return QStringLiteral("line %1: %2").arg(line).arg(what);
}

bool parseCsv(QByteArrayView text, std::vector<Row> &rows, QString &error)
{
    const QList<QByteArray> lines = text.toByteArray().split('\n');
    std::map<QByteArray, int> column;
    int lineNo = 0;
    for (QByteArray line : lines) {
        ++lineNo;
        line = line.trimmed();
        if (line.isEmpty() || line.startsWith('#')) {
            continue;
        }
        const QList<QByteArray> fields = line.split(',');
        if (column.empty()) {
            for (int i = 0; i < fields.size(); ++i) {
                column[fields[i].trimmed()] = i;
            }
            for (const char *required : {"arrival_ms", "prompt_tokens", "output_tokens", "prefix_group", "session"}) {
                if (!column.contains(QByteArray(required))) {
                    error = lineError(lineNo, QStringLiteral("header lacks column %1").arg(QLatin1StringView(required)));
                    return false;
                }
            }
            continue;
        }
        auto field = [&](const char *name) -> QByteArray {
            const auto it = column.find(QByteArray(name));
            return it != column.end() && it->second < fields.size() ? fields[it->second].trimmed() : QByteArray();
        };
        Row row;
        row.line = lineNo;
        bool ok = false;
        row.arrivalMs = field("arrival_ms").toDouble(&ok);
        if (!ok) {
            error = lineError(lineNo, QStringLiteral("arrival_ms is not a number"));
            return false;
        }
        row.promptTokens = field("prompt_tokens").toInt(&ok);
        if (!ok) {
            error = lineError(lineNo, QStringLiteral("prompt_tokens is not an integer"));
            return false;
        }
        row.outputTokens = field("output_tokens").toInt(&ok);
        if (!ok) {
            error = lineError(lineNo, QStringLiteral("output_tokens is not an integer"));
            return false;
        }
        const QByteArray group = field("prefix_group");
        row.prefixGroup = group.isEmpty() ? -1 : group.toInt(&ok);
        if (!group.isEmpty() && !ok) {
            error = lineError(lineNo, QStringLiteral("prefix_group is not an integer"));
            return false;
        }
        row.session = field("session");
        const QByteArray prefix = field("prefix_tokens");
        row.prefixTokens = prefix.isEmpty() ? -1 : prefix.toInt(&ok);
        if (!prefix.isEmpty() && !ok) {
            error = lineError(lineNo, QStringLiteral("prefix_tokens is not an integer"));
            return false;
        }
        rows.push_back(std::move(row));
    }
    return true;
}

bool parseJsonLines(QByteArrayView text, std::vector<Row> &rows, QString &error)
{
    const QList<QByteArray> lines = text.toByteArray().split('\n');
    int lineNo = 0;
    for (const QByteArray &raw : lines) {
        ++lineNo;
        const QByteArray line = raw.trimmed();
        if (line.isEmpty()) {
            continue;
        }
        QJsonParseError parseError;
        const QJsonDocument doc = QJsonDocument::fromJson(line, &parseError);
        if (!doc.isObject()) {
            error = lineError(lineNo, parseError.error != QJsonParseError::NoError ? parseError.errorString()
                                                                                    : QStringLiteral("not a JSON object"));
            return false;
        }
        const QJsonObject o = doc.object();
        for (const auto key : {QLatin1StringView("arrival_ms"), QLatin1StringView("prompt_tokens"), QLatin1StringView("output_tokens")}) {
            if (!o.value(key).isDouble()) {
                error = lineError(lineNo, QStringLiteral("%1 missing or not a number").arg(key));
                return false;
            }
        }
        Row row;
        row.line = lineNo;
        row.arrivalMs = o.value(QLatin1StringView("arrival_ms")).toDouble();
        row.promptTokens = o.value(QLatin1StringView("prompt_tokens")).toInt();
        row.outputTokens = o.value(QLatin1StringView("output_tokens")).toInt();
        row.prefixGroup = o.value(QLatin1StringView("prefix_group")).toInt(-1);
        const QJsonValue session = o.value(QLatin1StringView("session"));
        if (session.isString()) {
            row.session = session.toString().toUtf8();
        } else if (session.isDouble()) {
            row.session = QByteArray::number(session.toInteger());
        }
        row.prefixTokens = o.value(QLatin1StringView("prefix_tokens")).toInt(-1);
        rows.push_back(std::move(row));
    }
    return true;
}

int tokensOf(const std::vector<TextSpan> &spans)
{
    int tokens = 0;
    for (const TextSpan &span : spans) {
        tokens += span.tokens;
    }
    return tokens;
}

} // namespace

RequestLogResult parseRequestLog(QByteArrayView text, RequestLogFormat format, std::uint64_t seed, double speedup)
{
    RequestLogResult result;
    std::vector<Row> rows;
    const bool parsed = format == RequestLogFormat::Csv ? parseCsv(text, rows, result.error)
                                                        : parseJsonLines(text, rows, result.error);
    if (!parsed) {
        return result;
    }
    for (const Row &row : rows) {
        if (row.promptTokens < 1 || row.outputTokens < 1 || row.arrivalMs < 0.0) {
            result.error = lineError(row.line, QStringLiteral("prompt_tokens and output_tokens must be >= 1, arrival_ms >= 0"));
            return result;
        }
    }
    if (!(speedup > 0.0)) {
        result.error = QStringLiteral("speedup must be > 0");
        return result;
    }
    std::stable_sort(rows.begin(), rows.end(), [](const Row &a, const Row &b) { return a.arrivalMs < b.arrivalMs; });

    std::unordered_map<int, int> shortestInGroup;
    for (const Row &row : rows) {
        if (row.prefixGroup >= 0) {
            auto [it, inserted] = shortestInGroup.try_emplace(row.prefixGroup, row.promptTokens);
            it->second = std::min(it->second, row.promptTokens);
        }
    }

    struct SessionState {
        std::vector<TextSpan> text; // previous prompt + its answer
    };
    std::unordered_map<QByteArray, SessionState> sessions;
    Workload workload;
    workload.name = QStringLiteral("replay");
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const Row &row = rows[i];
        std::vector<TextSpan> prompt;
        SessionState *session = row.session.isEmpty() ? nullptr : &sessions[row.session];
        if (session && !session->text.empty() && tokensOf(session->text) <= row.promptTokens) {
            prompt = session->text;
            workload.completionsReused = true;
        } else if (row.prefixGroup >= 0) {
            const int shared = row.prefixTokens >= 0 ? row.prefixTokens : shortestInGroup[row.prefixGroup] - 1;
            const int length = std::clamp(shared, 0, row.promptTokens);
            const std::uint64_t groupSeed = mixSeed(seed, SYSTEM, static_cast<std::uint64_t>(row.prefixGroup));
            prompt.push_back({groupSeed, length, true});
        }
        prompt.push_back({mixSeed(seed, FRESH, i), row.promptTokens - tokensOf(prompt), false});
        SimRequest request;
        request.id = i;
        request.arrival = static_cast<SimTime>(std::llround(row.arrivalMs * MICROS_PER_MILLI / speedup));
        request.promptTokens = row.promptTokens;
        request.outputTokens = row.outputTokens;
        request.completion = {mixSeed(seed, ANSWER, i), row.outputTokens, false};
        request.prefixGroup = row.prefixGroup;
        request.session = row.session;
        if (session) {
            session->text = prompt;
            session->text.push_back(request.completion);
        }
        request.prompt = std::move(prompt);
        workload.requests.push_back(std::move(request));
    }
    if (workload.requests.size() > 1) {
        const double span = toSeconds(workload.requests.back().arrival - workload.requests.front().arrival);
        workload.offeredRate = span > 0.0 ? static_cast<double>(workload.requests.size() - 1) / span : 0.0;
    }
    result.workload = std::move(workload);
    return result;
}

RequestLogResult loadRequestLog(const QString &path, std::uint64_t seed, double speedup)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        RequestLogResult result;
        result.error = QStringLiteral("%1: %2").arg(path, file.errorString());
        return result;
    }
    const QString suffix = QFileInfo(path).suffix().toLower();
    const auto format = suffix == u"jsonl" || suffix == u"ndjson" ? RequestLogFormat::JsonLines : RequestLogFormat::Csv;
    return parseRequestLog(file.readAll(), format, seed, speedup);
}

} // namespace Gateway::Sim::Fleet
