#include "tokenize/ranktable.h"

#include <algorithm>
#include <bit>
#include <cstring>

namespace Gateway::Tokenize {

namespace {

std::uint64_t load64(const unsigned char *p)
{
    std::uint64_t v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

std::uint32_t load32(const unsigned char *p)
{
    std::uint32_t v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

// Two rounds of multiply/xor-shift (the splitmix64/murmur finaliser family).
inline std::uint64_t mix(std::uint64_t x)
{
    x ^= x >> 32;
    x *= 0xd6e8feb86659fd93ull;
    x ^= x >> 32;
    x *= 0xd6e8feb86659fd93ull;
    x ^= x >> 32;
    return x;
}

// The first min(8, size) bytes as a little-endian integer, zero-padded, without a loop or
// a variable-length memcpy: overlapping 4-byte loads for 4..7 bytes and three single bytes
// for 1..3 (the trick wyhash uses). Bytes in the overlap are ORed with themselves. For a
// given length the result is the bytes themselves, which is what lets rank() skip the
// memcmp for tokens of up to 8 bytes; that reasoning needs little-endian loads.
static_assert(std::endian::native == std::endian::little, "loadHead assumes little-endian loads");
inline std::uint64_t loadHead(const unsigned char *p, qsizetype size)
{
    if (size >= 8) {
        return load64(p);
    }
    if (size >= 4) {
        return std::uint64_t(load32(p)) | (std::uint64_t(load32(p + size - 4)) << ((size - 4) * 8));
    }
    return std::uint64_t(p[0]) | (std::uint64_t(p[size >> 1]) << ((size >> 1) * 8))
        | (std::uint64_t(p[size - 1]) << ((size - 1) * 8));
}

inline std::uint64_t hashBytes(const unsigned char *p, qsizetype size, std::uint64_t head)
{
    std::uint64_t h = mix(head ^ (std::uint64_t(size) * 0x9E3779B97F4A7C15ull));
    for (qsizetype at = 8; at < size; at += 8) [[unlikely]] {
        h = mix(h ^ loadHead(p + at, std::min<qsizetype>(8, size - at)));
    }
    return h;
}

} // namespace

Expected<std::shared_ptr<const RankTable>, QString> RankTable::create(QByteArray tokens,
                                                                      std::vector<std::uint32_t> offsets)
{
    if (offsets.size() < 2 || offsets.back() != std::uint32_t(tokens.size())) {
        return Unexpected(QStringLiteral("rank table: no tokens or inconsistent offsets"));
    }
    // make_shared cannot reach the private constructor.
    std::shared_ptr<RankTable> table(new RankTable(std::move(tokens), std::move(offsets)));
    for (std::uint32_t rank = 0; rank < table->size(); ++rank) {
        if (table->m_offsets[rank + 1] <= table->m_offsets[rank]) {
            return Unexpected(QStringLiteral("rank table: empty token at rank %1").arg(rank));
        }
        if (!table->insert(rank)) {
            return Unexpected(QStringLiteral("rank table: duplicate token at rank %1").arg(rank));
        }
    }
    return std::shared_ptr<const RankTable>(std::move(table));
}

RankTable::RankTable(QByteArray tokens, std::vector<std::uint32_t> offsets)
    : m_tokens {std::move(tokens)}
    , m_offsets {std::move(offsets)}
    , m_pairs(65536, kNoRank)
{
    // Load factor at most 1/2 keeps probe chains short for misses, which are the common
    // case while merging.
    const std::size_t capacity = std::bit_ceil(std::size_t(size()) * 2);
    m_slots.resize(capacity);
    m_mask = std::uint32_t(capacity - 1);
}

bool RankTable::insert(std::uint32_t rank)
{
    const QByteArrayView key = bytes(rank);
    if (key.size() > 0xFFFF || this->rank(key.data(), key.size()) != kNoRank) {
        return false;
    }
    const auto *p = reinterpret_cast<const unsigned char *>(key.data());
    const std::uint64_t head = loadHead(p, key.size());
    const std::uint64_t hash = hashBytes(p, key.size(), head);
    std::uint32_t i = std::uint32_t(hash) & m_mask;
    while (m_slots[i].rank != kNoRank) {
        i = (i + 1) & m_mask;
    }
    m_slots[i] = {head, rank, std::uint16_t(key.size()), std::uint16_t(hash >> 48)};
    if (key.size() == 2) {
        m_pairs[(p[0] << 8) | p[1]] = rank;
    }
    return true;
}

std::uint32_t RankTable::rank(const char *bytes, qsizetype size) const
{
    const auto *p = reinterpret_cast<const unsigned char *>(bytes);
    if (size == 2) {
        return pairRank(p[0], p[1]);
    }
    if (size <= 0 || size > 0xFFFF) {
        return kNoRank;
    }
    const std::uint64_t head = loadHead(p, size);
    const std::uint64_t hash = hashBytes(p, size, head);
    const auto tag = std::uint16_t(hash >> 48);
    for (std::uint32_t i = std::uint32_t(hash) & m_mask;; i = (i + 1) & m_mask) {
        const Slot &slot = m_slots[i];
        if (slot.rank == kNoRank) {
            return kNoRank;
        }
        if (slot.head == head && slot.length == size && slot.tag == tag
            && (size <= 8
                || std::memcmp(m_tokens.constData() + m_offsets[slot.rank] + 8, bytes + 8, std::size_t(size - 8))
                    == 0)) {
            return slot.rank;
        }
    }
}

QByteArrayView RankTable::bytes(std::uint32_t rank) const
{
    if (rank >= size()) {
        return {};
    }
    return QByteArrayView(m_tokens.constData() + m_offsets[rank], qsizetype(m_offsets[rank + 1] - m_offsets[rank]));
}

} // namespace Gateway::Tokenize
