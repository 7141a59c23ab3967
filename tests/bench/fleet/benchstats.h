#pragma once

#include "benchrow.h"

#include <map>
#include <vector>

namespace FleetBench {

// A configuration's results over its seeds: the mean, and the half-width of its 95%
// confidence interval (Student's t with runs - 1 degrees of freedom: seeds are few).
struct Summary {
    int runs = 0;
    bool oracle = false;
    double rate = 0.0; // mean offered rate
    MetricValues mean {};
    MetricValues ci95 {};

    double operator[](Metric metric) const { return valueOf(mean, metric); }
};

using Summaries = std::map<BenchKey, Summary>;

Summaries aggregate(const std::vector<BenchRow> &rows);

// Two-sided 95% quantile of Student's t (t_0.975); 0 for fewer than 1 degree of freedom.
double studentT975(int degreesOfFreedom);

} // namespace FleetBench
