#pragma once

namespace Storage {

// Scheduling for the store's background threads (log writer, WAL checkpointer), called
// on the thread itself. Under the normal scheduler the thread runs at `niceValue`: a
// smaller share than the workers when the CPU is contended, and enough to keep up. In a
// process that runs under a real-time policy (the benchmark does, an operator may) a
// normal thread would get only what the real-time workers leave, nothing at saturation;
// there the thread takes the process's policy and priority instead (round-robin with the
// workers), so its CPU is charged to the throughput as it should be. Returns true when it
// took the real-time policy.
bool adoptBackgroundScheduling(int niceValue);

} // namespace Storage
