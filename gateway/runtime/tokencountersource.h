#pragma once

#include "tokenize/tokencounter.h"

#include <atomic>
#include <memory>
#include <thread>

namespace Gateway::Runtime {

// The exact token counter (both OpenAI encodings and the estimator), built once on a
// thread of its own: loading the compiled-in rank tables takes ~80 ms of CPU, which
// neither start-up nor a worker should wait for. Until it is ready get() is null and
// callers fall back to their estimates. Immutable once published; shared by all workers.
class TokenCounterSource final {
public:
    TokenCounterSource();
    ~TokenCounterSource(); // joins the loading thread
    TokenCounterSource(const TokenCounterSource &) = delete;
    TokenCounterSource &operator=(const TokenCounterSource &) = delete;

    std::shared_ptr<const Tokenize::TokenCounter> get() const { return m_counter.load(std::memory_order_acquire); }

private:
    std::atomic<std::shared_ptr<const Tokenize::TokenCounter>> m_counter;
    std::thread m_loader;
};

} // namespace Gateway::Runtime
