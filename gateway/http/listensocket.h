#pragma once

#include "util/expected.h"

#include <QHostAddress>
#include <QString>

namespace Gateway::Http {

struct BoundSocket {
    int descriptor = -1;
    quint16 port = 0;
};

// Opens a non-blocking listening TCP socket with SO_REUSEPORT, so every worker thread
// can own a listener on the same port and the kernel spreads connections across them
// without a hand-off between threads.
Expected<BoundSocket, QString> openListenSocket(const QHostAddress &address, quint16 port, int backlog = 4096);

} // namespace Gateway::Http
