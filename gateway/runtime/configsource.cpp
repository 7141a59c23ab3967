#include "configsource.h"

namespace Gateway::Runtime {

void ConfigSource::publish(std::shared_ptr<const RouteTable> table)
{
    const QMutexLocker lock {&m_mutex};
    m_table = std::move(table);
    m_generation.fetch_add(1, std::memory_order_release);
}

std::shared_ptr<const RouteTable> ConfigSource::current() const
{
    const QMutexLocker lock {&m_mutex};
    return m_table;
}

const std::shared_ptr<const RouteTable> &ConfigView::table()
{
    const std::uint64_t generation = m_source.generation();
    if (generation != m_generation) {
        m_table = m_source.current();
        m_generation = generation;
    }
    return m_table;
}

} // namespace Gateway::Runtime
