#include "benchrow.h"

#include <QList>

#include <map>

namespace FleetBench {

namespace {

constexpr std::array<const char *, 10> KEY_COLUMNS {"workload", "arrivals", "load", "scrape_ms", "servers", "policy",
                                                   "oracle", "seed", "rate", "horizon_s"};

QByteArray number(double value)
{
    return QByteArray::number(value, 'g', 10);
}

} // namespace

QByteArray csvHeader()
{
    QByteArray header;
    for (const char *column : KEY_COLUMNS) {
        header += column;
        header += ',';
    }
    for (const std::string_view name : METRIC_NAMES) {
        header += QByteArray(name.data(), static_cast<qsizetype>(name.size()));
        header += ',';
    }
    header += "wall_s\n";
    return header;
}

QByteArray csvLine(const BenchRow &row)
{
    QByteArray line;
    line += row.key.workload.toUtf8() + ',' + row.key.arrivals.toUtf8() + ',' + number(row.key.load) + ','
        + number(row.key.scrapeMs) + ',' + QByteArray::number(row.key.servers) + ',' + row.key.policy.toUtf8() + ','
        + (row.oracle ? "1" : "0") + ',' + QByteArray::number(row.seed) + ',' + number(row.rate) + ','
        + number(row.horizonSeconds) + ',';
    for (const double value : row.metrics) {
        line += number(value) + ',';
    }
    line += number(row.wallSeconds) + '\n';
    return line;
}

std::optional<std::vector<BenchRow>> parseCsv(const QByteArray &text, QString &error)
{
    std::vector<BenchRow> rows;
    std::map<QByteArray, int> column;
    int lineNo = 0;
    for (const QByteArray &raw : text.split('\n')) {
        ++lineNo;
        const QByteArray line = raw.trimmed();
        if (line.isEmpty()) {
            continue;
        }
        const QList<QByteArray> fields = line.split(',');
        if (column.empty()) {
            for (int i = 0; i < fields.size(); ++i) {
                column[fields[i]] = i;
            }
            continue;
        }
        auto field = [&](std::string_view name) -> QByteArray {
            const auto it = column.find(QByteArray(name.data(), static_cast<qsizetype>(name.size())));
            if (it == column.end() || it->second >= fields.size()) {
                return {};
            }
            return fields[it->second];
        };
        if (field("workload") == "workload") {
            continue; // the header of a concatenated file
        }
        BenchRow row;
        row.key.workload = QString::fromUtf8(field("workload"));
        row.key.arrivals = QString::fromUtf8(field("arrivals"));
        row.key.load = field("load").toDouble();
        row.key.scrapeMs = field("scrape_ms").toDouble();
        row.key.servers = field("servers").toInt();
        row.key.policy = QString::fromUtf8(field("policy"));
        row.oracle = field("oracle") == "1";
        row.seed = field("seed").toULongLong();
        row.rate = field("rate").toDouble();
        row.horizonSeconds = field("horizon_s").toDouble();
        row.wallSeconds = field("wall_s").toDouble();
        for (std::size_t i = 0; i < METRIC_COUNT; ++i) {
            bool ok = false;
            row.metrics[i] = field(METRIC_NAMES[i]).toDouble(&ok);
            if (!ok) {
                error = QStringLiteral("line %1: column %2 missing or not a number")
                            .arg(lineNo)
                            .arg(QLatin1StringView(METRIC_NAMES[i].data(), static_cast<qsizetype>(METRIC_NAMES[i].size())));
                return std::nullopt;
            }
        }
        if (row.key.workload.isEmpty() || row.key.policy.isEmpty()) {
            error = QStringLiteral("line %1: workload or policy missing").arg(lineNo);
            return std::nullopt;
        }
        rows.push_back(std::move(row));
    }
    return rows;
}

} // namespace FleetBench
