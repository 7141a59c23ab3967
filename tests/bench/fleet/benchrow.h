#pragma once

#include "benchmetrics.h"

#include <QByteArray>
#include <QString>

#include <compare>
#include <cstdint>
#include <optional>
#include <vector>

namespace FleetBench {

// What distinguishes one configuration of the sweep from another; runs that differ only
// in their seed share a key and are averaged.
struct BenchKey {
    QString workload;   // W1..W5, W5z, or "replay"
    QString arrivals;   // "poisson" (the workload's own shape), "burst", "replay"
    double load = 0.0;  // fraction of round-robin saturation (0 for burst)
    double scrapeMs = 0.0;
    int servers = 0;
    QString policy;

    // QString has no <=> in Qt 6.4: the category is named so < and == are synthesised.
    std::partial_ordering operator<=>(const BenchKey &) const = default;
    bool operator==(const BenchKey &) const = default;
};

// One run of the sweep.
struct BenchRow {
    BenchKey key;
    std::uint64_t seed = 0;
    double rate = 0.0;     // mean offered requests per second
    double horizonSeconds = 0.0;
    bool oracle = false;   // the policy read the servers' true caches
    double wallSeconds = 0.0;
    MetricValues metrics {};
};

QByteArray csvHeader();
QByteArray csvLine(const BenchRow &row);
// Rows of one CSV file written by csvHeader()/csvLine(); error names the line.
std::optional<std::vector<BenchRow>> parseCsv(const QByteArray &text, QString &error);

} // namespace FleetBench
