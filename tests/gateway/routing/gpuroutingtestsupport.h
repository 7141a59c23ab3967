#pragma once

// Shared by the GPU-fleet routing tests: a scripted prefix source, prompt block helpers
// and snapshot builders with engine signals.

#include "routing/prefixmatch.h"
#include "strategytestsupport.h"

#include <map>
#include <mutex>
#include <utility>
#include <vector>

namespace GpuRoutingTest {

using namespace Gateway::Routing;
using namespace StrategyTest;

// Reports a fixed number of matched blocks per backend id (clamped to the prompt's
// blocks) and remembers what was recorded.
class ScriptedPrefixSource final : public PrefixMatchSource {
public:
    explicit ScriptedPrefixSource(std::map<int, int> matches = {}, int blockChars = 64)
        : m_matches {std::move(matches)}
        , m_blockChars {blockChars}
    {
    }

    void match(std::span<const std::uint64_t> blocks, std::span<const int> backendIds,
               std::span<int> matchedBlocks) const override
    {
        for (std::size_t i = 0; i < backendIds.size(); ++i) {
            const auto found = m_matches.find(backendIds[i]);
            const int matched = found == m_matches.end() ? 0 : found->second;
            matchedBlocks[i] = std::min(matched, static_cast<int>(blocks.size()));
        }
    }

    void record(int backendId, std::span<const std::uint64_t> blocks) override
    {
        const std::lock_guard lock {m_mutex};
        m_recorded.emplace_back(backendId, blocks.size());
    }

    int blockChars() const override { return m_blockChars; }

    void setMatch(int backendId, int blocks) { m_matches[backendId] = blocks; }
    // (backend id, number of blocks) per record() call, in order.
    const std::vector<std::pair<int, std::size_t>> &recorded() const { return m_recorded; }

private:
    std::map<int, int> m_matches;
    int m_blockChars;
    std::mutex m_mutex;
    std::vector<std::pair<int, std::size_t>> m_recorded;
};

// `count` distinct block hashes of one prompt family: family f, block i -> unique value.
inline std::vector<std::uint64_t> blocksOf(std::uint64_t family, std::size_t count, std::size_t firstBlock = 0)
{
    std::vector<std::uint64_t> blocks;
    for (std::size_t i = 0; i < count; ++i) {
        blocks.push_back((family << 32) + firstBlock + i + 1);
    }
    return blocks;
}

// A prompt of `blocks` blocks (16 tokens each) from `family`.
inline RequestSummary promptRequest(std::uint64_t family, std::size_t blocks, int maxTokens = 100)
{
    RequestSummary request;
    request.promptBlocks = blocksOf(family, blocks);
    request.estimatedPromptTokens = static_cast<int>(blocks) * 16;
    request.maxTokens = maxTokens;
    return request;
}

inline void setEngine(BackendState &state, double waiting, double running, double kvUsage)
{
    state.engine.fresh = true;
    state.engine.waitingRequests = waiting;
    state.engine.runningRequests = running;
    state.engine.kvCacheUsage = kvUsage;
    state.engine.ageMs = 100;
}

// Every engine of the snapshot reporting the same signals.
inline void setEngines(BackendSnapshot &snapshot, double waiting, double running, double kvUsage)
{
    for (BackendState &state : snapshot.backends) {
        setEngine(state, waiting, running, kvUsage);
    }
}

inline std::vector<PolicyTarget> equalTargets(std::size_t count)
{
    return targetsWithWeights(std::vector<double>(count, 1.0));
}

} // namespace GpuRoutingTest
