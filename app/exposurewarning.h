#pragma once

#include <QString>

namespace Gateway::Config {
struct GatewaySettings;
}

namespace App {

// Whether a listener on `host` is reachable from other machines (anything but loopback,
// including the wildcard addresses 0.0.0.0 and ::).
bool listensBeyondLoopback(const QString &host);

// Start-up warning, once: a listener reachable from the network without TLS carries
// virtual keys and the admin token in clear text. A log line on stdout, or on stderr
// when stdout is the terminal view.
void warnIfExposedWithoutTls(const Gateway::Config::GatewaySettings &settings, bool terminal);

} // namespace App
