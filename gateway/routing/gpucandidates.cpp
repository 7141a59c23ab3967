#include "gpucandidates.h"

#include "prefixmatch.h"

#include <algorithm>
#include <cmath>

namespace Gateway::Routing {

void GpuCandidateSet::gather(const RankInput &input, const PrefixMatchSource *source, std::size_t blockLimit)
{
    const std::size_t count = input.candidates.size();
    m_candidates.resize(count);
    m_backendIds.resize(count);
    m_matched.assign(count, 0);
    for (std::size_t i = 0; i < count; ++i) {
        const int index = input.candidates[i];
        const PolicyTarget &target = input.targets[static_cast<std::size_t>(index)];
        m_candidates[i] = GpuCandidate {index, target.backendId, &stateOf(target, input.snapshot),
                                        effectiveWeight(target, input.snapshot), 0};
        m_backendIds[i] = target.backendId;
    }
    const std::span<const std::uint64_t> prompt {input.request.promptBlocks};
    m_blocks = prompt.first(std::min(prompt.size(), blockLimit));
    if (source != nullptr && !m_blocks.empty()) {
        source->match(m_blocks, m_backendIds, m_matched);
        for (std::size_t i = 0; i < count; ++i) {
            m_candidates[i].matchedBlocks = std::clamp(m_matched[i], 0, static_cast<int>(m_blocks.size()));
        }
    }
}

std::span<double> GpuCandidateSet::values(int which)
{
    std::vector<double> &array = m_values[std::clamp(which, 0, VALUE_ARRAYS - 1)];
    array.assign(m_candidates.size(), 0.0);
    return array;
}

std::span<char> GpuCandidateSet::flags()
{
    m_flags.assign(m_candidates.size(), 0);
    return m_flags;
}

GpuCandidateSet &threadCandidateSet()
{
    thread_local GpuCandidateSet set;
    return set;
}

int tokensPerBlockOf(const PrefixMatchSource *source)
{
    constexpr int CHARS_PER_TOKEN = 4;
    constexpr int DEFAULT_BLOCK_CHARS = 64;
    const int chars = source != nullptr ? source->blockChars() : DEFAULT_BLOCK_CHARS;
    return std::max(1, chars / CHARS_PER_TOKEN);
}

void fillCachedPromptTokens(const RankInput &input, std::span<const GpuCandidate> candidates,
                            std::span<const double> cachedTokens, Ranking &out)
{
    out.cachedPromptTokens.assign(input.targets.size(), 0);
    const double prompt = std::max(0, input.request.estimatedPromptTokens);
    for (std::size_t i = 0; i < candidates.size(); ++i) {
        const double cached = std::clamp(cachedTokens[i], 0.0, prompt);
        out.cachedPromptTokens[static_cast<std::size_t>(candidates[i].targetIndex)] = static_cast<int>(std::lround(cached));
    }
}

void recordFirstChoice(PrefixMatchSource *source, const RankInput &input, std::span<const std::uint64_t> blocks,
                       const Ranking &out)
{
    if (source == nullptr || !input.recordChoice || blocks.empty() || out.order.empty()) {
        return;
    }
    source->record(input.targets[static_cast<std::size_t>(out.order.front())].backendId, blocks);
}

} // namespace Gateway::Routing
