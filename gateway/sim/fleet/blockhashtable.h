#pragma once

#include <cstdint>
#include <vector>

namespace Gateway::Sim::Fleet {

// Block hash -> block id for KvBlockCache: open addressing with linear probing and
// backward-shift deletion (no tombstones), at most half full. The simulator looks up
// every prompt block of every admission attempt, and a node-based std::unordered_map
// spent most of a run's time in allocation and pointer chasing.
//
// Keys are xxHash outputs, already uniform; they are still mixed once before taking the
// low bits. Key 0 marks an empty slot, so a block hash of 0 is stored as 1 (a false
// match between two such prompts has probability 2^-64 per block).
class BlockHashTable final {
public:
    static constexpr int NONE = -1;

    explicit BlockHashTable(int capacity);

    int find(std::uint64_t hash) const;
    // False (and no change) if the hash is already present.
    bool insert(std::uint64_t hash, int value);
    void erase(std::uint64_t hash);
    int size() const { return m_size; }

private:
    struct Slot {
        std::uint64_t key = 0;
        int value = NONE;
    };

    static std::uint64_t keyOf(std::uint64_t hash) { return hash == 0 ? 1 : hash; }
    std::size_t home(std::uint64_t key) const { return static_cast<std::size_t>((key * 0x9e3779b97f4a7c15ULL) >> 32) & m_mask; }

    std::vector<Slot> m_slots;
    std::size_t m_mask = 0;
    int m_size = 0;
};

} // namespace Gateway::Sim::Fleet
