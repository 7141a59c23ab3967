#pragma once

class QThread;

namespace Gateway {

// OpenSSL keeps state per thread (the thread's random generators, its error queue) and
// frees it from a thread-exit handler that runs after the thread's function returned.
// QThread::wait() returns before that handler runs, so a process that exits right after
// joining a thread that used libcrypto can exit with that state still allocated (a leak
// report under LeakSanitizer, seen intermittently from `switchyard import` under load).
// This releases the state on the thread itself as it emits finished(), which happens
// before wait() returns, so joining the thread also releases what OpenSSL kept for it.
void releaseCryptoStateOnFinish(QThread &thread);

} // namespace Gateway
