#include "kvblockcache.h"

#include <algorithm>

namespace Gateway::Sim::Fleet {

KvBlockCache::KvBlockCache(int numBlocks)
    : m_blocks(static_cast<std::size_t>(std::max(numBlocks, 0)))
    , m_byHash(numBlocks)
{
    for (BlockId id = 0; id < this->numBlocks(); ++id) {
        appendFree(id);
    }
}

int KvBlockCache::matchPrefix(std::span<const std::uint64_t> chain) const
{
    int matched = 0;
    for (const std::uint64_t hash : chain) {
        if (m_byHash.find(hash) == BlockHashTable::NONE) {
            break;
        }
        ++matched;
    }
    return matched;
}

void KvBlockCache::findPrefix(std::span<const std::uint64_t> chain, std::vector<BlockId> &ids) const
{
    ids.clear();
    for (const std::uint64_t hash : chain) {
        const BlockId id = m_byHash.find(hash);
        if (id == BlockHashTable::NONE) {
            break;
        }
        ids.push_back(id);
    }
}

int KvBlockCache::freeAmong(std::span<const BlockId> ids) const
{
    int free = 0;
    for (const BlockId id : ids) {
        free += m_blocks[static_cast<std::size_t>(id)].refs == 0 ? 1 : 0;
    }
    return free;
}

void KvBlockCache::acquire(std::span<const BlockId> ids, std::vector<BlockId> &out)
{
    for (const BlockId id : ids) {
        Block &block = at(id);
        if (block.refs == 0) {
            unlinkFree(id);
        }
        ++block.refs;
        out.push_back(id);
    }
}

bool KvBlockCache::allocate(int count, std::vector<BlockId> &out)
{
    if (count > m_freeCount) {
        return false;
    }
    for (int i = 0; i < count; ++i) {
        const BlockId id = m_freeHead;
        unlinkFree(id);
        Block &block = at(id);
        if (block.published) {
            m_byHash.erase(block.hash);
            block.published = false;
            ++m_evictions;
        }
        block.hash = 0;
        block.refs = 1;
        out.push_back(id);
    }
    return true;
}

void KvBlockCache::publish(BlockId id, std::uint64_t hash)
{
    Block &block = at(id);
    if (block.published) {
        return;
    }
    if (m_byHash.insert(hash, id)) {
        block.hash = hash;
        block.published = true;
    }
}

void KvBlockCache::release(std::span<const BlockId> blocks)
{
    for (auto it = blocks.rbegin(); it != blocks.rend(); ++it) {
        Block &block = at(*it);
        if (--block.refs == 0) {
            appendFree(*it);
        }
    }
}

int KvBlockCache::dropCached()
{
    int dropped = 0;
    for (Block &block : m_blocks) {
        if (block.published) {
            m_byHash.erase(block.hash);
            block.published = false;
            ++dropped;
        }
    }
    return dropped;
}

void KvBlockCache::unlinkFree(BlockId id)
{
    Block &block = at(id);
    if (block.prev != NONE) {
        at(block.prev).next = block.next;
    } else {
        m_freeHead = block.next;
    }
    if (block.next != NONE) {
        at(block.next).prev = block.prev;
    } else {
        m_freeTail = block.prev;
    }
    block.prev = block.next = NONE;
    --m_freeCount;
}

void KvBlockCache::appendFree(BlockId id)
{
    Block &block = at(id);
    block.prev = m_freeTail;
    block.next = NONE;
    if (m_freeTail != NONE) {
        at(m_freeTail).next = id;
    } else {
        m_freeHead = id;
    }
    m_freeTail = id;
    ++m_freeCount;
}

} // namespace Gateway::Sim::Fleet
