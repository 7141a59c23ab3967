#pragma once

#include <QByteArray>

namespace Gateway::Runtime {

class RouteTable;

// The GPU-fleet part of the gateway's own /metrics: what each server's engine reports
// (as last scraped, with its freshness), how scraping goes, the gateway's phase-split
// token load per backend, and the size of the prefix index per backend.
void appendEngineMetrics(QByteArray &out, const RouteTable &table, qint64 nowMs);

} // namespace Gateway::Runtime
