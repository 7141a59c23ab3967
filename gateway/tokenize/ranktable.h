#pragma once

#include "util/expected.h"

#include <QByteArray>
#include <QByteArrayView>
#include <QString>

#include <cstdint>
#include <memory>
#include <vector>

namespace Gateway::Tokenize {

// The vocabulary of one BPE encoding: token bytes <-> rank (the rank is the token id and
// the merge priority). Built once, then immutable, so one instance is shared by every
// thread through std::shared_ptr<const RankTable>.
//
// Lookups sit on the hot path of the merge (one per candidate pair) and the table is far
// larger than the CPU caches, so a lookup is designed to cost one cache miss:
// - two-byte strings, the first candidates of every merge, come from a dense 64K array
//   (256 KB, stays in L2);
// - everything else goes through an open-addressing table (linear probing, load <= 1/2)
//   whose 16-byte slots hold the first 8 bytes of the token, its length and 16 more hash
//   bits, so most tokens (<= 8 bytes) are confirmed without touching the byte arena and a
//   mismatch is rejected without a memcmp.
class RankTable final {
public:
    static constexpr std::uint32_t kNoRank = 0xFFFFFFFFu;

    // `tokens` is the concatenation of all token byte strings in rank order and
    // `offsets` (size N + 1) where each starts, ending with tokens.size(). Fails on an
    // empty or duplicate token.
    static Expected<std::shared_ptr<const RankTable>, QString> create(QByteArray tokens,
                                                                      std::vector<std::uint32_t> offsets);

    // The rank of exactly these bytes, or kNoRank.
    [[nodiscard]] std::uint32_t rank(const char *bytes, qsizetype size) const;
    // rank() of the two bytes a, b.
    [[nodiscard]] std::uint32_t pairRank(unsigned char a, unsigned char b) const { return m_pairs[(a << 8) | b]; }
    // The bytes of a rank; empty for an unknown rank.
    [[nodiscard]] QByteArrayView bytes(std::uint32_t rank) const;
    [[nodiscard]] std::uint32_t size() const { return std::uint32_t(m_offsets.size() - 1); }

private:
    struct Slot {
        std::uint64_t head = 0;       // first min(8, length) bytes, little-endian, zero-padded
        std::uint32_t rank = kNoRank; // kNoRank marks an empty slot
        std::uint16_t length = 0;
        std::uint16_t tag = 0;        // hash bits not used for the slot index
    };

    RankTable(QByteArray tokens, std::vector<std::uint32_t> offsets);
    bool insert(std::uint32_t rank);

    QByteArray m_tokens;
    std::vector<std::uint32_t> m_offsets;
    std::vector<Slot> m_slots;
    std::uint32_t m_mask = 0;
    std::vector<std::uint32_t> m_pairs; // 65536 entries: rank of byte pair (a << 8 | b)
};

} // namespace Gateway::Tokenize
