#include "saturationfile.h"

#include <QFile>
#include <QList>

namespace FleetBench {

std::optional<SaturationTable> readSaturation(const QString &path, QString &error)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        error = QStringLiteral("%1: %2").arg(path, file.errorString());
        return std::nullopt;
    }
    SaturationTable table;
    int lineNo = 0;
    for (const QByteArray &raw : file.readAll().split('\n')) {
        ++lineNo;
        const QByteArray line = raw.trimmed();
        if (line.isEmpty() || line.startsWith("workload,")) {
            continue;
        }
        const QList<QByteArray> f = line.split(',');
        bool ok = f.size() >= 7;
        Gateway::Sim::Fleet::SaturationEstimate estimate;
        int servers = 0;
        if (ok) {
            bool a = false, b = false, c = false, d = false, e = false;
            servers = f[1].toInt(&a);
            estimate.rate = f[3].toDouble(&b);
            estimate.analyticRate = f[4].toDouble(&c);
            estimate.offeredRate = f[5].toDouble(&d);
            estimate.rounds = f[6].toInt(&e);
            ok = a && b && c && d && e;
        }
        if (!ok) {
            error = QStringLiteral("%1:%2: expected workload,servers,horizon_s,rate,analytic_rate,offered_rate,rounds").arg(path).arg(lineNo);
            return std::nullopt;
        }
        table[{QString::fromUtf8(f[0]), servers}] = estimate;
    }
    return table;
}

bool writeSaturation(const QString &path, const SaturationTable &table, double horizonSeconds, QString &error)
{
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate)) {
        error = QStringLiteral("%1: %2").arg(path, file.errorString());
        return false;
    }
    file.write("workload,servers,horizon_s,rate,analytic_rate,offered_rate,rounds\n");
    for (const auto &[key, estimate] : table) {
        file.write(key.first.toUtf8() + ',' + QByteArray::number(key.second) + ',' + QByteArray::number(horizonSeconds) + ','
                   + QByteArray::number(estimate.rate, 'g', 8) + ',' + QByteArray::number(estimate.analyticRate, 'g', 8) + ','
                   + QByteArray::number(estimate.offeredRate, 'g', 8) + ',' + QByteArray::number(estimate.rounds) + '\n');
    }
    return true;
}

} // namespace FleetBench
