#pragma once

#include "servermodel.h"

#include "routing/prefixmatch.h"

#include <vector>

namespace Gateway::Sim::Fleet {

// A PrefixMatchSource that reads the simulated servers' true KV caches: how many leading
// prompt blocks each one has stored or is computing in the step in flight
// (ServerModel::announcedPrefix), i.e. exactly what an index fed by the engines' KV-cache
// events would know with zero delivery delay (llm-d's "precise" scorer, Dynamo with
// events). Results with it are labelled "oracle" and never presented as achievable from
// routing decisions alone. It knows nothing of requests still queued on a server (no
// event has been sent for them), which an index of routing decisions does. record() is
// ignored: the truth needs no bookkeeping.
class OraclePrefixSource final : public Routing::PrefixMatchSource {
public:
    // Backend id i is servers[i]; the servers must outlive the source.
    OraclePrefixSource(std::vector<const ServerModel *> servers, int blockChars);

    void match(std::span<const std::uint64_t> blocks, std::span<const int> backendIds,
               std::span<int> matchedBlocks) const override;
    void record(int backendId, std::span<const std::uint64_t> blocks) override;
    int blockChars() const override { return m_blockChars; }

private:
    std::vector<const ServerModel *> m_servers;
    int m_blockChars;
};

} // namespace Gateway::Sim::Fleet
