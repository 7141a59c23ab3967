#pragma once

#include "sim/fleet/saturation.h"

#include <QString>

#include <map>
#include <optional>
#include <utility>

namespace FleetBench {

// Round-robin saturation rates per (workload, fleet size), as `calibrate` measured them:
// CSV "workload,servers,horizon_s,rate,analytic_rate,offered_rate,rounds".
using SaturationKey = std::pair<QString, int>;
using SaturationTable = std::map<SaturationKey, Gateway::Sim::Fleet::SaturationEstimate>;

std::optional<SaturationTable> readSaturation(const QString &path, QString &error);
bool writeSaturation(const QString &path, const SaturationTable &table, double horizonSeconds, QString &error);

} // namespace FleetBench
