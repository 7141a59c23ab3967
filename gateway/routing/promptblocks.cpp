#include "promptblocks.h"

#include <xxhash.h>

#include <algorithm>
#include <cstring>
#include <utility>

namespace Gateway::Routing {

PromptBlockHasher::PromptBlockHasher(QByteArrayView model, int blockChars, int maxBlocks)
    : m_chain(XXH3_64bits(model.data(), static_cast<size_t>(model.size())))
    , m_blockChars(std::clamp(blockChars, 1, static_cast<int>(sizeof(m_pending))))
    , m_maxBlocks(std::max(0, maxBlocks))
{
}

void PromptBlockHasher::emitBlock(const char *data)
{
    m_chain = XXH3_64bits_withSeed(data, static_cast<size_t>(m_blockChars), m_chain);
    m_blocks.push_back(m_chain);
}

void PromptBlockHasher::append(QByteArrayView text)
{
    const char *data = text.data();
    qsizetype left = text.size();
    while (left > 0 && static_cast<int>(m_blocks.size()) < m_maxBlocks) {
        if (m_pendingSize == 0 && left >= m_blockChars) {
            // Whole blocks straight from the caller's buffer: no copy on the common path.
            emitBlock(data);
            data += m_blockChars;
            left -= m_blockChars;
            continue;
        }
        const int take = static_cast<int>(std::min<qsizetype>(left, m_blockChars - m_pendingSize));
        std::memcpy(m_pending + m_pendingSize, data, static_cast<size_t>(take));
        m_pendingSize += take;
        data += take;
        left -= take;
        if (m_pendingSize == m_blockChars) {
            emitBlock(m_pending);
            m_pendingSize = 0;
        }
    }
}

std::vector<std::uint64_t> PromptBlockHasher::take()
{
    m_pendingSize = 0;
    return std::exchange(m_blocks, {});
}

std::vector<std::uint64_t> PromptBlockHasher::hash(QByteArrayView model, QByteArrayView prompt, int blockChars, int maxBlocks)
{
    PromptBlockHasher hasher(model, blockChars, maxBlocks);
    hasher.append(prompt);
    return hasher.take();
}

} // namespace Gateway::Routing
