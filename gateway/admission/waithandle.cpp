#include "waithandle.h"

#include "queuecore.h"

#include <utility>

namespace Gateway::Admission {

WaitHandle::WaitHandle(std::shared_ptr<QueueCore> core, std::shared_ptr<WaiterState> waiter)
    : m_core {std::move(core)}
    , m_waiter {std::move(waiter)}
{
}

WaitHandle::~WaitHandle()
{
    cancel();
}

WaitHandle::WaitHandle(WaitHandle &&other) noexcept
    : m_core {std::exchange(other.m_core, nullptr)}
    , m_waiter {std::exchange(other.m_waiter, nullptr)}
{
}

WaitHandle &WaitHandle::operator=(WaitHandle &&other) noexcept
{
    if (this != &other) {
        cancel();
        m_core = std::exchange(other.m_core, nullptr);
        m_waiter = std::exchange(other.m_waiter, nullptr);
    }
    return *this;
}

bool WaitHandle::cancel()
{
    const std::shared_ptr<WaiterState> waiter = std::exchange(m_waiter, nullptr);
    const std::shared_ptr<QueueCore> core = std::exchange(m_core, nullptr);
    if (!waiter || !core) {
        return false;
    }
    return core->cancel(waiter);
}

} // namespace Gateway::Admission
