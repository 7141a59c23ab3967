#include "workercontext.h"

namespace Gateway::Proxy {

WorkerContext::WorkerContext(const ProxyEnvironment &environment, std::uint64_t seed)
    : m_environment {environment}
    , m_rng {seed}
    , m_config {environment.config}
    , m_requestPrefix {m_rng.next()}
{
}

QByteArray WorkerContext::nextRequestId()
{
    // A random per-worker prefix plus a counter: unique without coordination.
    std::uint64_t value = (m_requestPrefix << 24) ^ ++m_requestCounter;
    static constexpr char HEX[] = "0123456789abcdef";
    QByteArray id("req_0000000000000000", 20); // one allocation, filled from the right
    for (qsizetype i = 19; i >= 4; --i, value >>= 4) {
        id[i] = HEX[value & 0xF];
    }
    return id;
}

std::size_t WorkerContext::nextKeyIndex(int providerIndex, std::size_t keyCount)
{
    const auto index = static_cast<std::size_t>(providerIndex);
    if (m_keyCursor.size() <= index) {
        m_keyCursor.resize(index + 1, 0);
    }
    return m_keyCursor[index]++ % keyCount;
}

} // namespace Gateway::Proxy
