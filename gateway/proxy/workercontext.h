#pragma once

#include "proxyenvironment.h"
#include "messagetextscanner.h"
#include "requestinspector.h"
#include "routing/rng.h"
#include "runtime/configsource.h"
#include "upstream/curlmulti.h"

#include <QByteArray>

#include <vector>

namespace Gateway::Proxy {

// Per-worker-thread resources of the proxy: its curl multi handle (and so its upstream
// connection pool), random generator, JSON parser and cached configuration. Never
// shared between threads, so none of it needs a lock.
class WorkerContext final {
public:
    WorkerContext(const ProxyEnvironment &environment, std::uint64_t seed);

    const ProxyEnvironment &environment() const { return m_environment; }
    Upstream::CurlMulti &curl() { return m_curl; }
    // A QObject living on this worker's thread, for delivering results to it.
    QObject &threadContext() { return m_curl; }
    Routing::Rng &rng() { return m_rng; }
    RequestInspector &inspector() { return m_inspector; }
    MessageTextScanner &messageText() { return m_messageText; }
    const std::shared_ptr<const Runtime::RouteTable> &table() { return m_config.table(); }

    // "req_" + 16 hex digits, unique per process.
    QByteArray nextRequestId();

    // This worker's copy of the table's latest routing snapshot, with in-flight counts
    // read live from the backends' counters. Valid until the next call.
    const Routing::BackendSnapshot &routingSnapshot(const Runtime::RouteTable &table, qint64 nowMs);

private:
    const ProxyEnvironment &m_environment;
    Upstream::CurlMulti m_curl;
    Routing::XoshiroRng m_rng;
    RequestInspector m_inspector;
    MessageTextScanner m_messageText;
    Runtime::ConfigView m_config;
    const Runtime::RouteTable *m_snapshotTable = nullptr;
    std::uint64_t m_snapshotGeneration = 0;
    Routing::BackendSnapshot m_snapshot;
    std::vector<std::int64_t> m_engineAgesAtSnapshot; // each engine's ageMs as published
    std::uint64_t m_requestPrefix;
    std::uint64_t m_requestCounter = 0;
};

} // namespace Gateway::Proxy
