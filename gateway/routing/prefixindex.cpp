#include "prefixindex.h"

#include <algorithm>
#include <bit>
#include <utility>

namespace Gateway::Routing {

namespace {

constexpr std::size_t MIN_TABLE_SIZE = 1024;
// How many anchors ahead match() and record() start loading table entries: enough to
// overlap the cache misses of independent lookups.
constexpr std::size_t PREFETCH_DISTANCE = 8;

std::uint64_t bitOf(int slot)
{
    return std::uint64_t {1} << slot;
}

} // namespace

PrefixIndex::PrefixIndex(int blockChars, std::int64_t defaultCapacityBlocks, int strideBlocks)
    : m_blockChars {std::max(1, blockChars)}
    , m_strideBlocks {std::max(1, strideBlocks)}
    , m_defaultCapacity {std::max<std::int64_t>(0, defaultCapacityBlocks)}
{
}

PrefixIndex::~PrefixIndex() = default;

std::int64_t PrefixIndex::anchorsFor(std::int64_t capacityBlocks) const
{
    // Rounded up: a capacity of a few blocks still holds one anchor.
    return (capacityBlocks + m_strideBlocks - 1) / m_strideBlocks;
}

std::int64_t PrefixIndex::capacityForEngine(const EngineSignals &engine, int blockChars)
{
    if (engine.cacheBlocks <= 0 || engine.cacheBlockSize <= 0) {
        return 0;
    }
    const std::int64_t tokensPerBlock = std::max(1, blockChars / CHARS_PER_TOKEN);
    return engine.cacheBlocks * engine.cacheBlockSize / tokensPerBlock;
}

// ---- backend slots ----

int PrefixIndex::slotOf(int backendId) const
{
    if (backendId < 0 || static_cast<std::size_t>(backendId) >= m_byId.size()) {
        return -1;
    }
    return m_byId[static_cast<std::size_t>(backendId)].slot;
}

int PrefixIndex::claimSlot(int backendId)
{
    if (backendId < 0 || backendId >= MAX_BACKEND_ID) {
        return -1;
    }
    const auto id = static_cast<std::size_t>(backendId);
    if (id >= m_byId.size()) {
        m_byId.resize(id + 1);
    }
    if (m_byId[id].slot >= 0) {
        return m_byId[id].slot;
    }
    for (int slot = 0; slot < MAX_BACKENDS; ++slot) {
        Backend &backend = m_backends[static_cast<std::size_t>(slot)];
        if (backend.id < 0) {
            const std::int64_t configured = m_byId[id].capacity;
            const std::int64_t blocks = configured >= 0 ? configured : m_defaultCapacity;
            backend = Backend {backendId, NIL, NIL, 0, anchorsFor(blocks), blocks};
            m_byId[id].slot = slot;
            return slot;
        }
    }
    return -1; // all 64 taken: this backend is not indexed (see the class comment)
}

void PrefixIndex::setCapacityBlocks(int backendId, std::int64_t blocks)
{
    if (backendId < 0 || backendId >= MAX_BACKEND_ID) {
        return;
    }
    const std::lock_guard lock {m_mutex};
    const auto id = static_cast<std::size_t>(backendId);
    if (id >= m_byId.size()) {
        m_byId.resize(id + 1);
    }
    const std::int64_t capacity = std::max<std::int64_t>(0, blocks);
    m_byId[id].capacity = capacity;
    const int slot = m_byId[id].slot;
    if (slot < 0) {
        return;
    }
    Backend &backend = m_backends[static_cast<std::size_t>(slot)];
    backend.capacityBlocks = capacity;
    backend.capacity = anchorsFor(capacity);
    while (backend.size > backend.capacity) {
        evictTail(slot);
    }
}

void PrefixIndex::forget(int backendId)
{
    const std::lock_guard lock {m_mutex};
    const int slot = slotOf(backendId);
    if (slot < 0) {
        if (backendId >= 0 && static_cast<std::size_t>(backendId) < m_byId.size()) {
            m_byId[static_cast<std::size_t>(backendId)] = ById {};
        }
        return;
    }
    evictAll(slot);
    m_backends[static_cast<std::size_t>(slot)] = Backend {};
    m_byId[static_cast<std::size_t>(backendId)] = ById {};
}

std::int64_t PrefixIndex::clear(int backendId)
{
    const std::lock_guard lock {m_mutex};
    const int slot = slotOf(backendId);
    if (slot < 0) {
        return 0;
    }
    const std::int64_t held = m_backends[static_cast<std::size_t>(slot)].size * m_strideBlocks;
    evictAll(slot);
    return held;
}

void PrefixIndex::evictAll(int slot)
{
    while (m_backends[static_cast<std::size_t>(slot)].tail != NIL) {
        evictTail(slot);
    }
}

std::int64_t PrefixIndex::heldBlocks(int backendId) const
{
    const std::lock_guard lock {m_mutex};
    const int slot = slotOf(backendId);
    return slot < 0 ? 0 : m_backends[static_cast<std::size_t>(slot)].size * m_strideBlocks;
}

std::int64_t PrefixIndex::capacityBlocks(int backendId) const
{
    const std::lock_guard lock {m_mutex};
    const int slot = slotOf(backendId);
    if (slot >= 0) {
        return m_backends[static_cast<std::size_t>(slot)].capacityBlocks;
    }
    if (backendId >= 0 && static_cast<std::size_t>(backendId) < m_byId.size()
        && m_byId[static_cast<std::size_t>(backendId)].capacity >= 0) {
        return m_byId[static_cast<std::size_t>(backendId)].capacity;
    }
    return m_defaultCapacity;
}

std::size_t PrefixIndex::distinctBlocks() const
{
    const std::lock_guard lock {m_mutex};
    return m_entries;
}

// ---- match and record ----

void PrefixIndex::match(std::span<const std::uint64_t> blocks, std::span<const int> backendIds,
                        std::span<int> matchedBlocks) const
{
    std::fill(matchedBlocks.begin(), matchedBlocks.end(), 0);
    if (blocks.empty() || backendIds.empty()) {
        return;
    }
    std::array<int, MAX_BACKENDS> matchedBySlot; // read only for slots in `candidates`
    const std::lock_guard lock {m_mutex};
    std::uint64_t candidates = 0;
    for (const int id : backendIds) {
        const int slot = slotOf(id);
        if (slot >= 0) {
            candidates |= bitOf(slot);
        }
    }
    if (candidates == 0 || m_entries == 0) {
        return;
    }
    // `alive`: candidates holding every anchor so far. A candidate drops out at the first
    // anchor it lacks; its match is every block before that anchor's stride.
    const std::size_t anchors = anchorCount(blocks.size());
    std::uint64_t alive = candidates;
    std::size_t j = 0;
    for (; j < anchors && alive != 0; ++j) {
        if (j + PREFETCH_DISTANCE < anchors) {
            prefetchEntry(storedKey(blocks[anchorBlock(j + PREFETCH_DISTANCE, blocks.size())]));
        }
        const std::size_t position = findEntry(storedKey(blocks[anchorBlock(j, blocks.size())]));
        const std::uint64_t holders = position == NOT_FOUND ? 0 : m_table[position].mask & alive;
        const int matched = static_cast<int>(j * static_cast<std::size_t>(m_strideBlocks));
        for (std::uint64_t dropped = alive & ~holders; dropped != 0; dropped &= dropped - 1) {
            matchedBySlot[static_cast<std::size_t>(std::countr_zero(dropped))] = matched;
        }
        alive = holders;
    }
    for (; alive != 0; alive &= alive - 1) {
        matchedBySlot[static_cast<std::size_t>(std::countr_zero(alive))] = static_cast<int>(blocks.size());
    }
    const std::size_t count = std::min(backendIds.size(), matchedBlocks.size());
    for (std::size_t k = 0; k < count; ++k) {
        const int slot = slotOf(backendIds[k]);
        matchedBlocks[k] = slot >= 0 ? matchedBySlot[static_cast<std::size_t>(slot)] : 0;
    }
}

void PrefixIndex::record(int backendId, std::span<const std::uint64_t> blocks)
{
    if (blocks.empty()) {
        return;
    }
    const std::lock_guard lock {m_mutex};
    const int slot = claimSlot(backendId);
    if (slot < 0) {
        return;
    }
    const std::uint64_t bit = bitOf(slot);
    Backend &backend = m_backends[static_cast<std::size_t>(slot)];
    // More anchors than the capacity: keep the leading ones (recording the rest would only
    // evict the prompt's own head).
    const auto count = static_cast<std::size_t>(
        std::min<std::int64_t>(static_cast<std::int64_t>(anchorCount(blocks.size())), backend.capacity));
    // Two passes, with the same result as touching or inserting one anchor at a time and
    // evicting as needed. First every anchor goes to the front of the LRU list, last anchor
    // first, so the prompt's head ends up most recently used; the list may briefly exceed
    // the capacity by up to `count`. Then the oldest entries beyond the capacity are
    // evicted: never this prompt's anchors, as count <= capacity. Separating the passes
    // keeps the table lookups independent of the LRU walk, so their cache misses overlap.
    for (std::size_t j = count; j-- > 0;) {
        if (j >= PREFETCH_DISTANCE) {
            prefetchEntry(storedKey(blocks[anchorBlock(j - PREFETCH_DISTANCE, blocks.size())]));
        }
        const std::uint64_t key = storedKey(blocks[anchorBlock(j, blocks.size())]);
        std::size_t position = findEntry(key);
        if (position != NOT_FOUND && (m_table[position].mask & bit) != 0) {
            std::uint32_t node = m_table[position].chain;
            while (m_nodes[node].slot != slot) {
                node = m_nodes[node].chainNext;
            }
            unlink(backend, node);
            pushFront(backend, node);
            continue;
        }
        if (position == NOT_FOUND) {
            position = insertEntry(key);
        }
        const std::uint32_t node = allocateNode();
        Entry &entry = m_table[position];
        m_nodes[node] = Node {key, NIL, NIL, entry.chain, static_cast<std::uint8_t>(slot)};
        entry.chain = node;
        entry.mask |= bit;
        pushFront(backend, node);
        ++backend.size;
    }
    while (backend.size > backend.capacity) {
        // Start loading the next victims' nodes and entries before this one's erase.
        const Node &tail = m_nodes[backend.tail];
        if (tail.prev != NIL) {
            const Node &next = m_nodes[tail.prev];
            prefetchEntry(next.key);
            if (next.prev != NIL) {
                __builtin_prefetch(&m_nodes[next.prev]);
            }
        }
        evictTail(slot);
    }
}

// ---- LRU lists and the node pool ----

std::uint32_t PrefixIndex::allocateNode()
{
    if (m_freeNodes != NIL) {
        const std::uint32_t node = m_freeNodes;
        m_freeNodes = m_nodes[node].next;
        return node;
    }
    // Grows only while the held total grows; bounded by the sum of the capacities.
    m_nodes.push_back(Node {});
    return static_cast<std::uint32_t>(m_nodes.size() - 1);
}

void PrefixIndex::releaseNode(std::uint32_t node)
{
    m_nodes[node].next = m_freeNodes;
    m_freeNodes = node;
}

void PrefixIndex::pushFront(Backend &backend, std::uint32_t node)
{
    m_nodes[node].prev = NIL;
    m_nodes[node].next = backend.head;
    if (backend.head != NIL) {
        m_nodes[backend.head].prev = node;
    }
    backend.head = node;
    if (backend.tail == NIL) {
        backend.tail = node;
    }
}

void PrefixIndex::unlink(Backend &backend, std::uint32_t node)
{
    const std::uint32_t prev = m_nodes[node].prev;
    const std::uint32_t next = m_nodes[node].next;
    (prev != NIL ? m_nodes[prev].next : backend.head) = next;
    (next != NIL ? m_nodes[next].prev : backend.tail) = prev;
}

bool PrefixIndex::evictTail(int slot)
{
    const std::uint32_t node = m_backends[static_cast<std::size_t>(slot)].tail;
    return node != NIL && removeNode(slot, node);
}

bool PrefixIndex::removeNode(int slot, std::uint32_t node)
{
    Backend &backend = m_backends[static_cast<std::size_t>(slot)];
    unlink(backend, node);
    --backend.size;
    const std::size_t position = findEntry(m_nodes[node].key);
    Entry &entry = m_table[position];
    // Unlink from the entry's chain (one node per holder: at most 64, usually 1-3).
    std::uint32_t *link = &entry.chain;
    while (*link != node) {
        link = &m_nodes[*link].chainNext;
    }
    *link = m_nodes[node].chainNext;
    entry.mask &= ~bitOf(slot);
    const bool erased = entry.mask == 0;
    if (erased) {
        eraseEntry(position);
    }
    releaseNode(node);
    return erased;
}

// ---- the open-addressing table ----

void PrefixIndex::prefetchEntry(std::uint64_t key) const
{
    if (!m_table.empty()) {
        __builtin_prefetch(&m_table[home(key)]);
    }
}

std::size_t PrefixIndex::findEntry(std::uint64_t key) const
{
    if (m_table.empty()) {
        return NOT_FOUND;
    }
    for (std::size_t position = home(key);; position = (position + 1) & m_tableMask) {
        const std::uint64_t stored = m_table[position].key;
        if (stored == key) {
            return position;
        }
        if (stored == 0) {
            return NOT_FOUND;
        }
    }
}

std::size_t PrefixIndex::insertEntry(std::uint64_t key)
{
    // At most half full: a miss (the anchor that ends a match) probes ~2.5 entries.
    if ((m_entries + 1) * 2 > m_table.size()) {
        growTable();
    }
    std::size_t position = home(key);
    while (m_table[position].key != 0) {
        position = (position + 1) & m_tableMask;
    }
    m_table[position] = Entry {key, 0, NIL};
    ++m_entries;
    return position;
}

void PrefixIndex::eraseEntry(std::size_t position)
{
    // Backward-shift deletion: move later entries of the probe run back into the hole
    // when the hole lies between their home and their position, so lookups never need
    // tombstones and the table never degrades under churn.
    std::size_t hole = position;
    for (std::size_t next = (hole + 1) & m_tableMask; m_table[next].key != 0; next = (next + 1) & m_tableMask) {
        const std::size_t wanted = home(m_table[next].key);
        if (((next - wanted) & m_tableMask) >= ((next - hole) & m_tableMask)) {
            m_table[hole] = m_table[next];
            hole = next;
        }
    }
    m_table[hole] = Entry {};
    --m_entries;
}

void PrefixIndex::growTable()
{
    const std::size_t size = std::max(MIN_TABLE_SIZE, m_table.size() * 2);
    std::vector<Entry> old = std::exchange(m_table, std::vector<Entry>(size));
    m_tableMask = size - 1;
    m_tableShift = 64 - std::countr_zero(size);
    for (const Entry &entry : old) {
        if (entry.key == 0) {
            continue;
        }
        std::size_t position = home(entry.key);
        while (m_table[position].key != 0) {
            position = (position + 1) & m_tableMask;
        }
        m_table[position] = entry;
    }
}

} // namespace Gateway::Routing
