#pragma once

#include "serveraddress.h"

#include "config/policy.h"

#include <QString>

#include <vector>

namespace Gateway::Discovery {

// What one provider asks DNS.
struct DnsQuestion {
    Config::Discovery::Type type = Config::Discovery::Type::A;
    QString name;        // srv: the SRV name; a: the host name whose A and AAAA records count
    quint16 port = 0;    // a: the port every address serves on (from base_url)
    QString nameserver;  // "ipv4:port"; empty = the system resolver configuration
    int timeoutSeconds = 2; // per try; the library's own granularity
    int tries = 2;
};

// The answer: servers sorted and unique, or why there are none.
struct DnsAnswer {
    enum class Result { Ok, Empty, Error };
    Result result = Result::Error;
    std::vector<ServerAddress> servers; // Ok only
    QString error;                      // Empty and Error: what the resolver said
};

// Resolves with glibc's resolver library (res_nquery on a private resolver state, so
// calls on different threads never share state; answers parsed with ns_initparse /
// ns_parserr). SRV answers use the records of the lowest priority value (RFC 2782:
// those are tried first); their targets' addresses come from the additional section
// when the server sent them, else from A and AAAA queries. BLOCKING: call it only on a
// thread of its own (DiscoveryWorker), never on an event loop or a data-plane worker.
DnsAnswer resolve(const DnsQuestion &question);

} // namespace Gateway::Discovery
