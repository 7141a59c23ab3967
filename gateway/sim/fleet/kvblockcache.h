#pragma once

#include "blockhashtable.h"

#include <cstdint>
#include <span>
#include <vector>

namespace Gateway::Sim::Fleet {

// The paged KV cache of one simulated inference server, modelled on vLLM's block pool:
// a fixed number of blocks, each holding the KV of `blockSize` consecutive tokens.
//
// - A block in use by a running request has a reference count; blocks shared by several
//   requests (a common prefix) count every user.
// - A block whose tokens have been computed can be *published* under the chained hash
//   of its content (the same PromptBlockHasher chain the gateway computes). Only
//   published blocks are found by prefix lookups, so a request never reuses KV that is
//   still being computed by another request's prefill chunk.
// - Blocks with no reference are free. Free blocks keep their content and hash (they are
//   the prefix cache) until they are handed out again: allocation takes the least
//   recently freed block first and evicts its hash then (LRU eviction of refcount-0
//   blocks). A lookup hit on a free block takes it off the free list.
//
// Every operation is O(1) per block (an intrusive doubly linked free list and a flat
// hash table), so the simulator can afford it for every block of every request.
class KvBlockCache final {
public:
    using BlockId = int;

    explicit KvBlockCache(int numBlocks);

    int numBlocks() const { return static_cast<int>(m_blocks.size()); }
    // Blocks with no reference, cached or empty: what allocation can hand out.
    int freeBlocks() const { return m_freeCount; }
    int usedBlocks() const { return numBlocks() - m_freeCount; }
    // Published blocks currently resident (referenced or not).
    int cachedBlocks() const { return m_byHash.size(); }
    std::uint64_t evictions() const { return m_evictions; }

    // How many leading hashes of `chain` are published and resident.
    int matchPrefix(std::span<const std::uint64_t> chain) const;
    // The same, as the ids of those blocks (replacing the contents of `ids`).
    void findPrefix(std::span<const std::uint64_t> chain, std::vector<BlockId> &ids) const;
    bool contains(std::uint64_t hash) const { return m_byHash.find(hash) != BlockHashTable::NONE; }

    // How many of these resident blocks are free right now, i.e. would leave the free
    // list when acquired.
    int freeAmong(std::span<const BlockId> ids) const;

    // Takes a reference on each of these resident blocks and appends them to `out`.
    void acquire(std::span<const BlockId> ids, std::vector<BlockId> &out);

    // Appends `count` fresh blocks (reference 1, no hash) to `out`, evicting the least
    // recently freed cached blocks as needed. Returns false, allocating nothing, if fewer
    // than `count` blocks are free.
    bool allocate(int count, std::vector<BlockId> &out);

    // The block's tokens are computed: make it findable under `hash`. If another block
    // already holds that hash (two requests computed the same prefix concurrently), this
    // one stays anonymous and is simply dropped when freed.
    void publish(BlockId block, std::uint64_t hash);

    // Drops one reference from each block. Blocks reaching zero join the free list in
    // reverse order, so a released chain is evicted tail first and its shared head
    // (the part most likely reused) survives longest.
    void release(std::span<const BlockId> blocks);
    // Unpublishes every block: what an engine restart leaves of the prefix cache. Free
    // blocks stay free and blocks in use stay with their requests, but no lookup finds
    // any of them again. Returns how many blocks were dropped.
    int dropCached();

    int refCount(BlockId block) const { return m_blocks[static_cast<std::size_t>(block)].refs; }
    bool isPublished(BlockId block) const { return m_blocks[static_cast<std::size_t>(block)].published; }

private:
    static constexpr BlockId NONE = -1;

    struct Block {
        std::uint64_t hash = 0;
        int refs = 0;
        BlockId prev = NONE; // free list links, valid while refs == 0
        BlockId next = NONE;
        bool published = false;
    };

    void unlinkFree(BlockId block);
    void appendFree(BlockId block);
    Block &at(BlockId block) { return m_blocks[static_cast<std::size_t>(block)]; }

    std::vector<Block> m_blocks;
    BlockHashTable m_byHash;
    BlockId m_freeHead = NONE; // least recently freed: handed out first
    BlockId m_freeTail = NONE;
    int m_freeCount = 0;
    std::uint64_t m_evictions = 0;
};

} // namespace Gateway::Sim::Fleet
