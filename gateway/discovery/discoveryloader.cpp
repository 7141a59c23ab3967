#include "discoveryloader.h"

#include <QHostAddress>
#include <QUrl>

namespace Gateway::Discovery {

namespace {

// Bounds: a resolution more often than every 100 ms is a DNS storm; an hour of slow
// start or drain is a typo.
constexpr qint64 MIN_INTERVAL_MS = 100;
constexpr qint64 MAX_INTERVAL_MS = 3600000;
constexpr qint64 MAX_RAMP_MS = 3600000;

bool validNameserver(const QString &text)
{
    const qsizetype colon = text.lastIndexOf(u':');
    if (colon <= 0) {
        return false;
    }
    bool ok = false;
    const uint port = text.mid(colon + 1).toUInt(&ok);
    // An address, since a name would need a resolver itself; IPv4, since that is what
    // the resolver library's nameserver list takes without its private extension fields.
    return ok && port > 0 && port <= 65535 && QHostAddress(text.left(colon)).protocol() == QAbstractSocket::IPv4Protocol;
}

} // namespace

Config::Discovery parseDiscovery(const Config::DocumentReader &reader, const YAML::Node &node, const QString &field,
                                 const QString &baseUrl)
{
    using Config::DocumentReader;
    Config::Discovery discovery;
    reader.requireMap(node, field);
    reader.checkKeys(node, field, {"type", "name", "interval_ms", "slow_start_ms", "drain_ms", "nameserver"});
    const QString type = reader.requiredString(node, "type", field);
    if (type == u"a") {
        discovery.type = Config::Discovery::Type::A;
    } else if (type == u"srv") {
        discovery.type = Config::Discovery::Type::Srv;
    } else {
        reader.fail(node["type"], field + QStringLiteral(".type"),
                    QStringLiteral("unknown discovery type '%1' (allowed: a, srv)").arg(type));
    }
    if (discovery.type == Config::Discovery::Type::Srv) {
        discovery.name = reader.requiredString(node, "name", field);
        if (discovery.name.isEmpty()) {
            reader.fail(node["name"], field + QStringLiteral(".name"),
                        QStringLiteral("an SRV name is required, e.g. _http._tcp.vllm.ml.svc.cluster.local"));
        }
    } else {
        if (node["name"]) {
            reader.fail(node["name"], field + QStringLiteral(".name"),
                        QStringLiteral("type a resolves the host of base_url; name is for type srv only"));
        }
        const QString host = QUrl(baseUrl).host();
        if (!QHostAddress(host).isNull()) {
            reader.fail(node["type"], field + QStringLiteral(".type"),
                        QStringLiteral("type a resolves the host of base_url, and '%1' is an address, not a name")
                            .arg(host));
        }
    }
    const auto duration = [&](const char *key, qint64 min, qint64 max, qint64 &out) {
        if (node[key]) {
            out = reader.integer(node[key], DocumentReader::join(field, QLatin1String(key)), min, max);
        }
    };
    duration("interval_ms", MIN_INTERVAL_MS, MAX_INTERVAL_MS, discovery.intervalMs);
    duration("slow_start_ms", 0, MAX_RAMP_MS, discovery.slowStartMs);
    duration("drain_ms", 0, MAX_RAMP_MS, discovery.drainMs);
    if (node["nameserver"]) {
        discovery.nameserver = reader.string(node["nameserver"], field + QStringLiteral(".nameserver"));
        if (!discovery.nameserver.isEmpty() && !validNameserver(discovery.nameserver)) {
            reader.fail(node["nameserver"], field + QStringLiteral(".nameserver"),
                        QStringLiteral("expected IPV4_ADDRESS:PORT, e.g. 127.0.0.1:5353"));
        }
    }
    return discovery;
}

} // namespace Gateway::Discovery
