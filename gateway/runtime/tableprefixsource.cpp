#include "tableprefixsource.h"

#include "routing/prefixindex.h"

#include <array>

namespace Gateway::Runtime {

TablePrefixSource::TablePrefixSource(Routing::PrefixIndex &index)
    : m_index {index}
{
}

int TablePrefixSource::stableId(int backendId) const
{
    return backendId >= 0 && static_cast<std::size_t>(backendId) < m_stableIds.size()
        ? m_stableIds[static_cast<std::size_t>(backendId)]
        : -1;
}

void TablePrefixSource::match(std::span<const std::uint64_t> blocks, std::span<const int> backendIds,
                              std::span<int> matchedBlocks) const
{
    // Routes rarely have more than a few dozen targets: translate on the stack.
    constexpr std::size_t INLINE = 64;
    if (backendIds.size() <= INLINE) {
        std::array<int, INLINE> stable;
        for (std::size_t i = 0; i < backendIds.size(); ++i) {
            stable[i] = stableId(backendIds[i]);
        }
        m_index.match(blocks, std::span<const int>(stable.data(), backendIds.size()), matchedBlocks);
        return;
    }
    std::vector<int> stable(backendIds.size());
    for (std::size_t i = 0; i < backendIds.size(); ++i) {
        stable[i] = stableId(backendIds[i]);
    }
    m_index.match(blocks, stable, matchedBlocks);
}

void TablePrefixSource::record(int backendId, std::span<const std::uint64_t> blocks)
{
    const int stable = stableId(backendId);
    if (stable >= 0) {
        m_index.record(stable, blocks);
    }
}

int TablePrefixSource::blockChars() const
{
    return m_index.blockChars();
}

} // namespace Gateway::Runtime
