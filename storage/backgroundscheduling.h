#pragma once

namespace Storage {

// Scheduling for the store's background threads (log writer, WAL checkpointer), called
// on the thread itself. Under the normal scheduler the thread runs at `niceValue`: a
// smaller share than the workers when the CPU is contended, and enough to keep up.
//
// In a process that runs under a real-time policy (the benchmark does, an operator may)
// a normal thread would get only what the real-time workers leave: nothing at
// saturation. Round-robin at the workers' own priority is not enough either: a worker
// that never blocks keeps the CPU for a whole time slice (100 ms), so a thread that
// wakes for a batch waits that long before it runs, twice per batch, and the log queue
// overflowed at the closed-loop maximum. There the thread takes the process's policy one
// priority ABOVE the workers: it preempts them as soon as it has work, does it in a short
// burst (the writer keeps its batches small for this) and sleeps again. Its CPU is then
// charged to the throughput, as it should be, and it never starves. `realtimeAbove` is
// how many priorities above the workers (1 for the log writer; 0 for the checkpointer,
// whose once-a-second copy may wait for a time slice but must not preempt a worker for
// its whole duration). Returns true when it took the real-time policy.
bool adoptBackgroundScheduling(int niceValue, int realtimeAbove);

} // namespace Storage
