#pragma once

#include "cachedanswer.h"

#include <QByteArray>

#include <atomic>
#include <deque>
#include <optional>
#include <shared_mutex>
#include <vector>

namespace Gateway::Cache {

// The semantic cache of one route: (embedding, answer) pairs, searched by cosine
// similarity within a partition (RequestKey::context: same route, scope, stream flags,
// parameters and conversation but for the last user message). Vectors are stored unit
// length, so the similarity is a dot product. Bounded by entries, oldest out first; an
// exact linear scan (5,000 entries of 1,536 floats is a few milliseconds at most, under a
// shared lock, on routes that chose it).
class SemanticIndex final {
public:
    explicit SemanticIndex(qint64 maxEntries);
    SemanticIndex(const SemanticIndex &) = delete;
    SemanticIndex &operator=(const SemanticIndex &) = delete;

    struct Match {
        AnswerPtr answer;
        double similarity = 0;
    };
    // The most similar live entry of `partition` at or above `threshold`.
    std::optional<Match> find(const QByteArray &partition, const std::vector<float> &unitVector, double threshold,
                              qint64 nowMs) const;
    // `unitVector` must be unit length (normalised()).
    void insert(const QByteArray &partition, std::vector<float> unitVector, AnswerPtr answer, qint64 expiresAtMs,
                qint64 nowMs);

    qint64 entries() const { return m_entries.load(std::memory_order_relaxed); }
    qint64 bytes() const { return m_bytes.load(std::memory_order_relaxed); }

    // `vector` scaled to unit length; empty when it is empty or all zeros.
    static std::vector<float> normalised(std::vector<float> vector);

private:
    struct Entry {
        QByteArray partition;
        std::vector<float> vector;
        AnswerPtr answer;
        qint64 expiresAtMs = 0;
        qint64 bytes = 0;
    };

    void popOldest(); // locked exclusively

    const qint64 m_maxEntries;
    mutable std::shared_mutex m_mutex;
    std::deque<Entry> m_entriesByAge; // oldest first
    std::atomic<qint64> m_entries {0};
    std::atomic<qint64> m_bytes {0};
};

} // namespace Gateway::Cache
