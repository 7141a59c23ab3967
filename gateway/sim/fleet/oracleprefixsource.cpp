#include "oracleprefixsource.h"

namespace Gateway::Sim::Fleet {

OraclePrefixSource::OraclePrefixSource(std::vector<const ServerModel *> servers, int blockChars)
    : m_servers(std::move(servers))
    , m_blockChars(blockChars)
{
}

void OraclePrefixSource::match(std::span<const std::uint64_t> blocks, std::span<const int> backendIds,
                               std::span<int> matchedBlocks) const
{
    for (std::size_t i = 0; i < backendIds.size() && i < matchedBlocks.size(); ++i) {
        const auto id = static_cast<std::size_t>(backendIds[i]);
        matchedBlocks[i] = id < m_servers.size() ? m_servers[id]->announcedPrefix(blocks) : 0;
    }
}

void OraclePrefixSource::record(int, std::span<const std::uint64_t>)
{
}

} // namespace Gateway::Sim::Fleet
