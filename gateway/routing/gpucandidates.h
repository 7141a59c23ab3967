#pragma once

#include "routepolicy.h"

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace Gateway::Routing {

class PrefixMatchSource;

// One candidate of a GPU-fleet decision, with everything the GPU policies read about it
// gathered once per rank() call.
struct GpuCandidate {
    int targetIndex = -1;
    int backendId = -1;
    const BackendState *state = nullptr;
    double weight = 1.0;   // effective weight: configured x health ramp (relative speed)
    int matchedBlocks = 0; // leading prompt blocks the prefix source believes it holds
};

// Per-call scratch shared by the GPU policies: the candidates of one rank() call and
// their prefix matches, from a single PrefixMatchSource::match() over all of them. One
// set per worker thread (threadCandidateSet()), reused, so a decision allocates nothing
// once warmed up.
class GpuCandidateSet {
public:
    // Rebuilds the set for `input`. With a source and prompt blocks, asks it for every
    // candidate's match over the first `blockLimit` blocks; otherwise all matches are 0.
    void gather(const RankInput &input, const PrefixMatchSource *source, std::size_t blockLimit);

    std::span<GpuCandidate> candidates() { return {m_candidates.data(), m_candidates.size()}; }
    std::size_t size() const { return m_candidates.size(); }
    GpuCandidate &operator[](std::size_t i) { return m_candidates[i]; }
    // The prompt blocks the matches were taken over: min(prompt blocks, blockLimit).
    std::span<const std::uint64_t> blocks() const { return m_blocks; }

    // Scratch arrays of size() values for the policy's own per-candidate numbers.
    std::span<double> values(int which);
    // A scratch array of size() flags (all 0), e.g. which candidates are eligible.
    std::span<char> flags();

private:
    static constexpr int VALUE_ARRAYS = 6;

    std::vector<GpuCandidate> m_candidates;
    std::vector<int> m_backendIds;
    std::vector<int> m_matched;
    std::vector<double> m_values[VALUE_ARRAYS];
    std::vector<char> m_flags;
    std::span<const std::uint64_t> m_blocks;
};

// The calling thread's set (thread_local): rank() may run on any worker.
GpuCandidateSet &threadCandidateSet();

// Prompt tokens per block of `source`'s hashes: blockChars / 4 (at least 1); the default
// block (64 characters) is 16 tokens, vLLM's default KV block size.
int tokensPerBlockOf(const PrefixMatchSource *source);

// Fills out.cachedPromptTokens (one entry per target, 0 for non-candidates) from each
// candidate's believed cached tokens, clamped to the prompt's estimated size.
void fillCachedPromptTokens(const RankInput &input, std::span<const GpuCandidate> candidates,
                            std::span<const double> cachedTokens, Ranking &out);

// Records the first choice's blocks in the source (the index learns from decisions, as
// the EPP's approximate index does). No-op without a source, blocks or a choice.
void recordFirstChoice(PrefixMatchSource *source, const RankInput &input, std::span<const std::uint64_t> blocks,
                       const Ranking &out);

} // namespace Gateway::Routing
