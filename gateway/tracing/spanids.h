#pragma once

#include "tracecontext.h"

namespace Gateway::Tracing {

// Random, non-zero trace and span ids from a generator of the calling thread (a
// 64-bit Mersenne Twister seeded from std::random_device once per thread), so worker
// threads never share generator state or take a lock for an id.
TraceId newTraceId();
SpanId newSpanId();

// The TraceIdRatioBased sampler's decision: the trace id's last 8 bytes, read as an
// unsigned number, below ratio * 2^64. Every gateway with the same ratio agrees.
bool sampledByRatio(const TraceId &id, double ratio);

} // namespace Gateway::Tracing
