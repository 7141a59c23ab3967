#pragma once

#include <QtGlobal>

#include <algorithm>

namespace Storage {

// Request-log row ids that order by time: id = finished_at_ms x 2^16 + a sequence, so the
// primary key itself answers time ranges and retention by age, and the table needs no
// secondary index on finished_at_ms. Each index is one more B-tree insert per row on the
// log writer, which shares the CPU with the data plane; this one was a quarter of the
// writer's cost.
//
// The writer gives each row max(previous id + 1, its time's first id): ids stay unique
// and increasing even when rows arrive slightly out of time order (two workers finishing
// in the same millisecond, or more than 65,536 rows in one millisecond), so an id is
// never below its row's time but may run a little ahead of it. Readers therefore bound
// ids from below exactly and from above with MAX_REORDER_MS of slack, then filter on
// finished_at_ms itself.
struct RequestLogIds {
    static constexpr int SEQUENCE_BITS = 16;
    // Rows whose id ran ahead of their time by more than this (a clock stepped back by
    // minutes) are missed by an upper time bound; they are still listed without one.
    static constexpr qint64 MAX_REORDER_MS = 60'000;

    static constexpr qint64 firstIdAt(qint64 timeMs) { return std::max<qint64>(0, timeMs) << SEQUENCE_BITS; }
    static constexpr qint64 next(qint64 previousId, qint64 finishedAtMs)
    {
        return std::max(previousId + 1, firstIdAt(finishedAtMs));
    }
};

} // namespace Storage
