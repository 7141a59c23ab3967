#include "exposurewarning.h"

#include "logline.h"

#include "config/policy.h"

#include <QHostAddress>

#include <cstdio>

namespace App {

bool listensBeyondLoopback(const QString &host)
{
    if (host == u"localhost") {
        return false;
    }
    const QHostAddress address {host};
    bool mapped = false;
    const quint32 v4 = address.toIPv4Address(&mapped);
    if (mapped) {
        return (v4 >> 24) != 127;
    }
    return !address.isLoopback();
}

void warnIfExposedWithoutTls(const Gateway::Config::GatewaySettings &settings, bool terminal)
{
    if (!listensBeyondLoopback(settings.listenHost) || !settings.tlsCertFile.isEmpty()) {
        return;
    }
    const QByteArray message = "listening beyond loopback without TLS: virtual keys, prompts and the admin token "
                               "cross the network in clear text; set gateway.tls_cert_file and gateway.tls_key_file "
                               "or listen on 127.0.0.1 behind a TLS proxy";
    if (terminal) {
        std::fprintf(stderr, "switchyard: WARNING: %s (listen %s)\n", message.constData(),
                     qPrintable(settings.listenHost));
        return;
    }
    logLine("warn", message, {LogField("listen", settings.listenHost),
                              LogField("admin_allow_remote", settings.adminAllowRemote ? 1 : 0)});
}

} // namespace App
