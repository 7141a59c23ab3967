#pragma once

#include <memory>

namespace Gateway::Admission {

class QueueCore;
struct WaiterState;

// The caller's hold on a queued request. Move-only; destroying it cancels the wait, so
// an exchange that goes away (client disconnect, shutdown) leaves the queue with it.
class WaitHandle {
public:
    WaitHandle() = default;
    ~WaitHandle();
    WaitHandle(WaitHandle &&other) noexcept;
    WaitHandle &operator=(WaitHandle &&other) noexcept;
    WaitHandle(const WaitHandle &) = delete;
    WaitHandle &operator=(const WaitHandle &) = delete;

    bool isValid() const { return m_waiter != nullptr; }

    // Withdraws the request. True when its callback has not run and now never will; false
    // when it already ran (or the handle is empty). When the callback is running on
    // another thread at that moment, cancel() waits for it to return, so once cancel()
    // has returned nothing of the callback runs any more and its captures may go.
    // A slot granted to the request but not yet delivered goes to the next waiter.
    // Idempotent; the handle is empty afterwards.
    bool cancel();

private:
    friend class QueueCore;
    WaitHandle(std::shared_ptr<QueueCore> core, std::shared_ptr<WaiterState> waiter);

    std::shared_ptr<QueueCore> m_core;
    std::shared_ptr<WaiterState> m_waiter;
};

} // namespace Gateway::Admission
