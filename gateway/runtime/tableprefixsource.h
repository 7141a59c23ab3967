#pragma once

#include "routing/prefixmatch.h"

#include <vector>

namespace Gateway::Routing {
class PrefixIndex;
}

namespace Gateway::Runtime {

// The prefix index as one RouteTable's policies see it. Backend ids are renumbered with
// every compiled configuration, while what a server holds in its KV cache outlives
// configurations; so the process keeps one PrefixIndex keyed by stable per-label ids
// (RoutingRegistry) and each table translates its own ids through this adapter.
class TablePrefixSource final : public Routing::PrefixMatchSource {
public:
    explicit TablePrefixSource(Routing::PrefixIndex &index);

    // Called while the table is built, in backend id order.
    void addBackend(int stableId) { m_stableIds.push_back(stableId); }
    int stableId(int backendId) const;

    void match(std::span<const std::uint64_t> blocks, std::span<const int> backendIds,
               std::span<int> matchedBlocks) const override;
    void record(int backendId, std::span<const std::uint64_t> blocks) override;
    int blockChars() const override;

private:
    Routing::PrefixIndex &m_index;
    std::vector<int> m_stableIds; // by table backend id
};

} // namespace Gateway::Runtime
