#pragma once

#include "backendsnapshot.h"
#include "prefixmatch.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <mutex>
#include <span>
#include <vector>

namespace Gateway::Routing {

// The approximate prefix index of the Gateway API Inference Extension's prefix-cache
// proposal (docs/proposals/0602-prefix-cache-aware-routing-proposal): the gateway cannot
// see the servers' KV caches, so it remembers which prompt blocks it sent where and
// assumes each server keeps them in LRU order up to a capacity close to its HBM cache.
//
// Anchors: the block hashes are a chain, so holding block i's hash means holding the
// whole prefix up to i. The index therefore stores only every `stride`-th hash (blocks
// stride-1, 2*stride-1, ...) plus each recorded prompt's last block, and reports a
// match as the blocks before the first anchor a backend lacks (a full match when it
// holds them all). With the default stride of 8 blocks (128 tokens) a match is at most
// 7 blocks short (or exact), while record() does an eighth of the table work and the
// index needs an eighth of the memory for the same cache coverage: match + record of an
// 8K-token prompt stays within a few microseconds (tests/bench/gpuroutingbench.cpp).
// Stride 4 took twice as long (a p99 at the 20 µs target on a slow machine) and routed
// no better in the fleet simulator (docs/BENCHMARKS.md, "Index anchors every 8th block").
// Capacities are given in blocks and held as anchors (rounded up). Stride 1 indexes
// every block, exactly as the EPP does.
//
// Structure: one flat open-addressing table (linear probing, backward-shift deletion, no
// tombstones) maps an anchor hash to a 64-bit mask of the backends holding it (the reverse
// map) and to a short chain of per-backend nodes. Every node also sits on its backend's
// intrusive LRU list. Nodes live in one pool with a free list, so the steady state
// allocates nothing: a new anchor reuses the node its backend just evicted.
//
// match() is one table probe per anchor, walked in order and stopped at the first anchor
// that no candidate holds. record() touches or inserts the chosen backend's anchors from
// the last to the first, so a prompt's leading blocks (the part other prompts share) are
// the most recently used and are evicted last, as the engines' own caches do.
//
// Limits: at most MAX_BACKENDS (64) backends are indexed, one bit each. A backend first
// seen when all slots are taken (or with an id outside [0, MAX_BACKEND_ID)) is not
// indexed: record() ignores it and match() reports 0 for it, so prefix-aware policies
// treat it as cold and route to it by load only; forget() frees a slot. Memory is
// bounded by the capacities: one 24-byte node per (anchor, backend) pair, plus table
// entries of 24 bytes kept between 25% and 50% full: at most ~120 bytes per held anchor,
// ~30 bytes per block of capacity at the default stride (8 MB for 8 servers at the
// default capacity).
//
// Thread safety: every public method takes one mutex. The critical sections are short
// (see above), so workers deciding concurrently barely contend.
class PrefixIndex final : public PrefixMatchSource {
public:
    static constexpr int MAX_BACKENDS = 64;
    // The EPP's lruCapacityPerServer: (80 GB HBM - 16 GB weights) / 128 KB per token =
    // 500,000 tokens = 31,250 blocks of 16 tokens. Used until setCapacityBlocks() is called.
    static constexpr std::int64_t DEFAULT_CAPACITY_BLOCKS = 31250;
    static constexpr int CHARS_PER_TOKEN = 4;
    // Backend ids are indices into BackendSnapshot::backends; anything this large is a bug.
    static constexpr int MAX_BACKEND_ID = 1 << 20;

    // Every 8th block (128 tokens) is an anchor; see the class comment.
    static constexpr int DEFAULT_STRIDE_BLOCKS = 8;

    explicit PrefixIndex(int blockChars = 64, std::int64_t defaultCapacityBlocks = DEFAULT_CAPACITY_BLOCKS,
                         int strideBlocks = DEFAULT_STRIDE_BLOCKS);
    ~PrefixIndex() override;
    PrefixIndex(const PrefixIndex &) = delete;
    PrefixIndex &operator=(const PrefixIndex &) = delete;

    // PrefixMatchSource
    void match(std::span<const std::uint64_t> blocks, std::span<const int> backendIds,
               std::span<int> matchedBlocks) const override;
    void record(int backendId, std::span<const std::uint64_t> blocks) override;
    int blockChars() const override { return m_blockChars; }

    // How many blocks this backend is assumed to keep; evicts its least recently used
    // anchors at once if it holds more. Negative values count as 0 (index nothing).
    void setCapacityBlocks(int backendId, std::int64_t blocks);
    // Drops everything known about a removed backend and frees its slot.
    void forget(int backendId);
    // Drops what a backend is believed to hold (its engine restarted with an empty cache)
    // but keeps its slot and capacity. Returns the blocks it held.
    std::int64_t clear(int backendId) override;

    int strideBlocks() const { return m_strideBlocks; }
    // Blocks currently held for a backend (anchors x stride; 0 if unknown), and its
    // capacity in blocks.
    std::int64_t heldBlocks(int backendId) const;
    std::int64_t capacityBlocks(int backendId) const;
    // Distinct anchor hashes in the index (over all backends).
    std::size_t distinctBlocks() const;

    // The capacity, in this index's blocks, that matches an engine's KV cache as scraped
    // from its /metrics (cacheBlocks x cacheBlockSize tokens; blocks of blockChars / 4
    // tokens). 0 when the engine does not report its cache geometry.
    static std::int64_t capacityForEngine(const EngineSignals &engine, int blockChars);

private:
    static constexpr std::uint32_t NIL = 0xffffffffU;
    static constexpr std::size_t NOT_FOUND = ~std::size_t {0};

    // One anchor held by one backend: a node on that backend's LRU list and on the chain of
    // its anchor's table entry.
    struct Node {
        std::uint64_t key;
        std::uint32_t prev;      // LRU towards the most recent
        std::uint32_t next;      // LRU towards the least recent (or the free list)
        std::uint32_t chainNext; // the next backend holding the same anchor
        std::uint8_t slot;
    };
    struct Entry {
        std::uint64_t key = 0; // 0 = empty (block hashes of 0 are stored as 1)
        std::uint64_t mask = 0;
        std::uint32_t chain = NIL;
    };
    struct Backend {
        int id = -1; // -1 = free slot
        std::uint32_t head = NIL; // most recently used
        std::uint32_t tail = NIL; // least recently used
        std::int64_t size = 0;     // anchors held
        std::int64_t capacity = 0; // in anchors
        std::int64_t capacityBlocks = 0;
    };

    // Anchor j of an n-block prompt is block min((j + 1) x stride, n) - 1.
    std::size_t anchorCount(std::size_t blocks) const
    {
        const auto stride = static_cast<std::size_t>(m_strideBlocks);
        return (blocks + stride - 1) / stride;
    }
    std::size_t anchorBlock(std::size_t anchor, std::size_t blocks) const
    {
        return std::min((anchor + 1) * static_cast<std::size_t>(m_strideBlocks), blocks) - 1;
    }
    std::int64_t anchorsFor(std::int64_t capacityBlocks) const;

    int slotOf(int backendId) const;
    int claimSlot(int backendId);

    std::size_t findEntry(std::uint64_t key) const; // position, or NOT_FOUND
    void prefetchEntry(std::uint64_t key) const;
    std::size_t insertEntry(std::uint64_t key);
    void eraseEntry(std::size_t position);
    void growTable();
    // Fibonacci hashing (multiply by 2^64 / golden ratio, keep the top bits): the chained
    // xxHash values are already uniform, but other sources may use small consecutive keys;
    // the multiply spreads them across the table.
    std::size_t home(std::uint64_t key) const
    {
        return static_cast<std::size_t>((key * 0x9e3779b97f4a7c15ULL) >> m_tableShift);
    }

    std::uint32_t allocateNode();
    void releaseNode(std::uint32_t node);
    void pushFront(Backend &backend, std::uint32_t node);
    void unlink(Backend &backend, std::uint32_t node);
    void evictAll(int slot);
    // Both return true when the table entry was erased (which moves other entries).
    bool evictTail(int slot);
    bool removeNode(int slot, std::uint32_t node);

    static std::uint64_t storedKey(std::uint64_t hash) { return hash == 0 ? 1 : hash; }

    mutable std::mutex m_mutex;
    int m_blockChars;
    int m_strideBlocks;
    std::int64_t m_defaultCapacity;
    std::array<Backend, MAX_BACKENDS> m_backends;
    // By backend id: its slot (-1 = none) and the capacity set for it (-1 = default).
    struct ById {
        int slot = -1;
        std::int64_t capacity = -1;
    };
    std::vector<ById> m_byId;
    std::vector<Entry> m_table; // power-of-two size
    std::size_t m_tableMask = 0;
    int m_tableShift = 64;
    std::size_t m_entries = 0;
    std::vector<Node> m_nodes;
    std::uint32_t m_freeNodes = NIL;
};

} // namespace Gateway::Routing
