#include "tokenize/bytepairmerge.h"

#include <algorithm>
#include <array>
#include <functional>

namespace Gateway::Tokenize {

namespace {

constexpr std::uint32_t kNone = RankTable::kNoRank;

// tiktoken's merge on a small piece. start[i] is the byte offset where part i begins and
// pairRank[i] the rank of part i joined with part i+1; start[parts - 1] == size is a
// sentinel. Calls `onPart(begin, end)` for each final part, in order.
template <typename OnPart>
void mergeSmall(const RankTable &ranks, const char *piece, qsizetype size, OnPart &&onPart)
{
    std::array<std::uint32_t, BytePairMerge::kSmallPiece + 1> start;
    std::array<std::uint32_t, BytePairMerge::kSmallPiece + 1> pairRank;
    qsizetype parts = size + 1; // entries in `start`, including the sentinel
    for (qsizetype i = 0; i < parts; ++i) {
        start[i] = std::uint32_t(i);
    }
    for (qsizetype i = 0; i + 1 < size; ++i) {
        pairRank[i] = ranks.pairRank(static_cast<unsigned char>(piece[i]), static_cast<unsigned char>(piece[i + 1]));
    }
    pairRank[size - 1] = kNone;
    pairRank[size] = kNone; // the sentinel's, shifted down as parts merge

    // Rank of parts i, i+1, i+2 joined, i.e. what pair i becomes once i+1 merges into it.
    const auto joinedRank = [&](qsizetype i) {
        if (i + 3 >= parts) {
            return kNone;
        }
        return ranks.rank(piece + start[i], qsizetype(start[i + 3] - start[i]));
    };

    while (parts > 2) {
        std::uint32_t best = kNone;
        qsizetype at = 0;
        for (qsizetype i = 0; i < parts - 1; ++i) {
            if (pairRank[i] < best) {
                best = pairRank[i];
                at = i;
            }
        }
        if (best == kNone) {
            break;
        }
        pairRank[at] = joinedRank(at);
        if (at > 0) {
            pairRank[at - 1] = joinedRank(at - 1);
        }
        for (qsizetype i = at + 1; i + 1 < parts; ++i) {
            start[i] = start[i + 1];
            pairRank[i] = pairRank[i + 1];
        }
        --parts;
    }
    for (qsizetype i = 0; i + 1 < parts; ++i) {
        onPart(start[i], start[i + 1]);
    }
}

// The same merge for long pieces: parts form a doubly linked list over byte offsets and
// candidate pairs sit in a min-heap keyed by rank << 32 | offset, which is exactly
// tiktoken's choice (lowest rank, leftmost on ties). Entries are invalidated lazily: an
// entry is live while its part still has that pair rank (a merged-away part gets kDead).
// The buffers are per thread and reused, so a long piece allocates nothing once warm.
constexpr std::uint32_t kDead = kNone - 1;

struct LargeScratch {
    std::vector<std::uint32_t> next;
    std::vector<std::uint32_t> prev;
    std::vector<std::uint32_t> pairRank;
    std::vector<std::uint64_t> heap;
};

template <typename OnPart>
void mergeLarge(const RankTable &ranks, const char *piece, qsizetype size, OnPart &&onPart)
{
    thread_local LargeScratch scratch;
    const auto n = std::uint32_t(size);
    auto &next = scratch.next;
    auto &prev = scratch.prev;
    auto &pairRank = scratch.pairRank;
    auto &heap = scratch.heap;
    next.resize(n);
    prev.resize(n);
    pairRank.resize(n);
    heap.clear();

    const auto key = [](std::uint32_t rank, std::uint32_t offset) { return (std::uint64_t(rank) << 32) | offset; };
    for (std::uint32_t i = 0; i < n; ++i) {
        next[i] = i + 1;
        prev[i] = i == 0 ? kNone : i - 1;
        pairRank[i] = i + 1 < n ? ranks.pairRank(static_cast<unsigned char>(piece[i]),
                                                 static_cast<unsigned char>(piece[i + 1]))
                                : kNone;
        if (pairRank[i] != kNone) {
            heap.push_back(key(pairRank[i], i));
        }
    }
    std::make_heap(heap.begin(), heap.end(), std::greater<>());

    // The pair starting at part i covers i .. end of the part after it.
    const auto rankOfPair = [&](std::uint32_t i) {
        const std::uint32_t j = next[i];
        return j >= n ? kNone : ranks.rank(piece + i, qsizetype(next[j] - i));
    };
    const auto push = [&](std::uint32_t i) {
        if (pairRank[i] != kNone) {
            heap.push_back(key(pairRank[i], i));
            std::push_heap(heap.begin(), heap.end(), std::greater<>());
        }
    };
    while (!heap.empty()) {
        std::pop_heap(heap.begin(), heap.end(), std::greater<>());
        const std::uint64_t top = heap.back();
        heap.pop_back();
        const auto i = std::uint32_t(top);
        if (pairRank[i] != std::uint32_t(top >> 32)) {
            continue;
        }
        const std::uint32_t j = next[i];
        pairRank[j] = kDead;
        next[i] = next[j];
        if (next[j] < n) {
            prev[next[j]] = i;
        }
        pairRank[i] = rankOfPair(i);
        push(i);
        if (const std::uint32_t p = prev[i]; p != kNone) {
            pairRank[p] = rankOfPair(p);
            push(p);
        }
    }
    for (std::uint32_t i = 0; i < n; i = next[i]) {
        onPart(i, next[i]);
    }
}

template <typename OnPart>
void merge(const RankTable &ranks, const char *piece, qsizetype size, OnPart &&onPart)
{
    if (size <= BytePairMerge::kSmallPiece) {
        mergeSmall(ranks, piece, size, onPart);
    } else {
        mergeLarge(ranks, piece, size, onPart);
    }
}

} // namespace

void BytePairMerge::encode(const RankTable &ranks, QByteArrayView piece, std::vector<std::uint32_t> &out)
{
    const char *data = piece.data();
    if (const std::uint32_t whole = ranks.rank(data, piece.size()); whole != kNone) {
        out.push_back(whole);
        return;
    }
    merge(ranks, data, piece.size(), [&](std::uint32_t begin, std::uint32_t end) {
        out.push_back(ranks.rank(data + begin, qsizetype(end - begin)));
    });
}

qsizetype BytePairMerge::count(const RankTable &ranks, QByteArrayView piece)
{
    if (piece.size() == 1 || ranks.rank(piece.data(), piece.size()) != kNone) {
        return 1;
    }
    qsizetype tokens = 0;
    merge(ranks, piece.data(), piece.size(), [&](std::uint32_t, std::uint32_t) { ++tokens; });
    return tokens;
}

} // namespace Gateway::Tokenize
