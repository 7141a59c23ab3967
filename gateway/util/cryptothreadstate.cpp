#include "cryptothreadstate.h"

#include <QThread>

#include <openssl/crypto.h>

namespace Gateway {

void releaseCryptoStateOnFinish(QThread &thread)
{
    // finished() is emitted from the thread itself: a direct connection runs there.
    QObject::connect(&thread, &QThread::finished, &thread, [] { OPENSSL_thread_stop(); }, Qt::DirectConnection);
}

} // namespace Gateway
