#include "tokencountersource.h"

#include <QtGlobal>

namespace Gateway::Runtime {

TokenCounterSource::TokenCounterSource()
    : m_loader {[this] {
        auto counter = Tokenize::TokenCounter::withBundledRanks();
        if (!counter) {
            qWarning("token counter unavailable, settlements without usage stay estimated: %s", qPrintable(counter.error()));
            return;
        }
        m_counter.store(std::make_shared<const Tokenize::TokenCounter>(std::move(counter).value()), std::memory_order_release);
    }}
{
}

TokenCounterSource::~TokenCounterSource()
{
    m_loader.join();
}

} // namespace Gateway::Runtime
