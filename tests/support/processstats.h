#pragma once

#include <QList>
#include <QtGlobal>

namespace TestSupport {

// What a process holds, read from /proc (Linux). `pid` 0 means this process.
// Open file descriptors (entries of /proc/PID/fd), or -1 if it cannot be read.
int openFileDescriptors(qint64 pid = 0);
// Resident memory (VmRSS of /proc/PID/status) in KiB, or -1 if it cannot be read.
qint64 residentKiB(qint64 pid = 0);

// Of the process's descriptors, the TCP sockets connected to one of `remotePorts` on
// 127.0.0.1 (e.g. the gateway's upstream connection pool to known upstreams).
int socketsConnectedTo(qint64 pid, const QList<quint16> &remotePorts);

// Raises this process's soft RLIMIT_NOFILE to its hard limit; returns the soft limit now
// in force (which children inherit).
qint64 raiseFileDescriptorLimit();

} // namespace TestSupport
