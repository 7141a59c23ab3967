#include "benchstats.h"

#include <array>
#include <cmath>

namespace FleetBench {

double studentT975(int df)
{
    static constexpr std::array<double, 30> TABLE {12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
                                                   2.201,  2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
                                                   2.080,  2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042};
    if (df < 1) {
        return 0.0;
    }
    return df <= static_cast<int>(TABLE.size()) ? TABLE[static_cast<std::size_t>(df - 1)] : 1.96;
}

Summaries aggregate(const std::vector<BenchRow> &rows)
{
    std::map<BenchKey, std::vector<const BenchRow *>> groups;
    for (const BenchRow &row : rows) {
        groups[row.key].push_back(&row);
    }
    Summaries summaries;
    for (const auto &[key, members] : groups) {
        Summary summary;
        summary.runs = static_cast<int>(members.size());
        const double n = summary.runs;
        for (const BenchRow *row : members) {
            summary.oracle = summary.oracle || row->oracle;
            summary.rate += row->rate / n;
            for (std::size_t i = 0; i < METRIC_COUNT; ++i) {
                summary.mean[i] += row->metrics[i] / n;
            }
        }
        if (summary.runs > 1) {
            const double t = studentT975(summary.runs - 1);
            for (std::size_t i = 0; i < METRIC_COUNT; ++i) {
                double squares = 0.0;
                for (const BenchRow *row : members) {
                    squares += (row->metrics[i] - summary.mean[i]) * (row->metrics[i] - summary.mean[i]);
                }
                summary.ci95[i] = t * std::sqrt(squares / (n - 1)) / std::sqrt(n);
            }
        }
        summaries.emplace(key, summary);
    }
    return summaries;
}

} // namespace FleetBench
