#pragma once

#include "benchstats.h"

#include <QByteArray>

namespace FleetBench {

// The markdown summary: one table per (workload, arrivals, scrape interval, fleet size),
// one row per (load, policy), every cell "mean ± 95% CI half-width" over the seeds.
QByteArray markdownSummary(const Summaries &summaries);

} // namespace FleetBench
