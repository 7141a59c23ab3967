#pragma once

#include "routetable.h"

#include <QMutex>

#include <atomic>
#include <memory>

namespace Gateway::Runtime {

// Where workers get the current RouteTable. Publishing swaps one shared_ptr and bumps
// a generation; a worker compares the generation (one relaxed atomic load per request)
// and only takes the lock when it changed, so the hot path never contends.
class ConfigSource final {
public:
    void publish(std::shared_ptr<const RouteTable> table);
    std::shared_ptr<const RouteTable> current() const;
    std::uint64_t generation() const { return m_generation.load(std::memory_order_acquire); }

private:
    mutable QMutex m_mutex;
    std::shared_ptr<const RouteTable> m_table;
    std::atomic<std::uint64_t> m_generation {0};
};

// A worker's cached view of a ConfigSource.
class ConfigView final {
public:
    explicit ConfigView(const ConfigSource &source) : m_source {source} {}

    const std::shared_ptr<const RouteTable> &table();

private:
    const ConfigSource &m_source;
    std::shared_ptr<const RouteTable> m_table;
    std::uint64_t m_generation = ~std::uint64_t {0};
};

} // namespace Gateway::Runtime
