#include "blockhashtable.h"

#include <algorithm>

namespace Gateway::Sim::Fleet {

BlockHashTable::BlockHashTable(int capacity)
{
    std::size_t slots = 16;
    while (slots < 2 * static_cast<std::size_t>(std::max(capacity, 1))) {
        slots *= 2;
    }
    m_slots.resize(slots);
    m_mask = slots - 1;
}

int BlockHashTable::find(std::uint64_t hash) const
{
    const std::uint64_t key = keyOf(hash);
    for (std::size_t i = home(key);; i = (i + 1) & m_mask) {
        const Slot &slot = m_slots[i];
        if (slot.key == key) {
            return slot.value;
        }
        if (slot.key == 0) {
            return NONE;
        }
    }
}

bool BlockHashTable::insert(std::uint64_t hash, int value)
{
    const std::uint64_t key = keyOf(hash);
    std::size_t i = home(key);
    for (;; i = (i + 1) & m_mask) {
        if (m_slots[i].key == key) {
            return false;
        }
        if (m_slots[i].key == 0) {
            break;
        }
    }
    // Never more than half full: the cache publishes at most one hash per block.
    m_slots[i] = {key, value};
    ++m_size;
    return true;
}

void BlockHashTable::erase(std::uint64_t hash)
{
    const std::uint64_t key = keyOf(hash);
    std::size_t i = home(key);
    for (;; i = (i + 1) & m_mask) {
        if (m_slots[i].key == key) {
            break;
        }
        if (m_slots[i].key == 0) {
            return;
        }
    }
    // Backward shift: move later members of the probe run into the hole when their home
    // is not between the hole and them (cyclically).
    std::size_t hole = i;
    for (std::size_t j = (hole + 1) & m_mask; m_slots[j].key != 0; j = (j + 1) & m_mask) {
        const std::size_t want = home(m_slots[j].key);
        const bool movable = hole <= j ? (want <= hole || want > j) : (want <= hole && want > j);
        if (movable) {
            m_slots[hole] = m_slots[j];
            hole = j;
        }
    }
    m_slots[hole] = Slot {};
    --m_size;
}

} // namespace Gateway::Sim::Fleet
