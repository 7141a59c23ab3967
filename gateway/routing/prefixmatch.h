#pragma once

#include <cstdint>
#include <span>

namespace Gateway::Routing {

// Where a prefix-locality policy learns how much of a request's prompt each backend
// already holds in its KV cache. In the gateway this is an approximate index of past
// routing decisions (PrefixIndex); in the fleet simulator an "oracle" source can read
// the simulated servers' true cache instead, so both run through the very same policy.
// Keyed by backend id (not route target), because a server's cache is shared by every
// route that sends to it. Implementations are safe to call from several threads.
class PrefixMatchSource {
public:
    virtual ~PrefixMatchSource() = default;

    // For each backend in `backendIds`, writes to `matchedBlocks` (same length) how many
    // leading blocks of `blocks` it is believed to hold.
    virtual void match(std::span<const std::uint64_t> blocks, std::span<const int> backendIds,
                       std::span<int> matchedBlocks) const = 0;

    // The request with these blocks was sent to `backendId`: from now on assume that
    // backend holds them (an oracle source ignores this).
    virtual void record(int backendId, std::span<const std::uint64_t> blocks) = 0;

    // The backend's cache was emptied (its engine restarted): forget what it is believed
    // to hold. Returns the blocks dropped; an oracle source has nothing to forget.
    virtual std::int64_t clear(int /*backendId*/) { return 0; }

    // Characters per block of the hashes this source was built for (PromptBlockHasher).
    virtual int blockChars() const = 0;
};

} // namespace Gateway::Routing
