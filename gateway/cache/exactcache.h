#pragma once

#include "cachedanswer.h"

#include <QByteArray>

#include <atomic>
#include <list>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace Gateway::Cache {

// The exact cache of one route: answers by request digest, with a time to live, bounded
// by entries and bytes with least-recently-used eviction. Sharded by the digest's first
// byte, each shard with its own lock and its share of the bounds, so workers rarely meet
// on a lock (LRU order is kept per shard: eviction is exact within a shard). Nothing here
// blocks beyond a shard lock held for a map operation.
class ExactCache final {
public:
    ExactCache(qint64 maxEntries, qint64 maxBytes, int shards = DEFAULT_SHARDS);
    ExactCache(const ExactCache &) = delete;
    ExactCache &operator=(const ExactCache &) = delete;

    static constexpr int DEFAULT_SHARDS = 16;

    // The live answer for `key`, marked most recently used; an expired one is dropped.
    AnswerPtr find(const QByteArray &key, qint64 nowMs);
    // Stores (or replaces) `key`; evicts least recently used entries past the bounds. An
    // answer larger than a shard's byte share is not stored.
    void insert(const QByteArray &key, AnswerPtr answer, qint64 expiresAtMs);

    qint64 entries() const { return m_entries.load(std::memory_order_relaxed); }
    qint64 bytes() const { return m_bytes.load(std::memory_order_relaxed); }
    quint64 evictions() const { return m_evictions.load(std::memory_order_relaxed); }

private:
    struct Entry {
        QByteArray key;
        AnswerPtr answer;
        qint64 expiresAtMs = 0;
        qint64 bytes = 0;
    };
    struct KeyHash {
        std::size_t operator()(const QByteArray &key) const noexcept;
    };
    struct Shard {
        std::mutex mutex;
        std::list<Entry> lru; // front = most recently used
        std::unordered_map<QByteArray, std::list<Entry>::iterator, KeyHash> index;
        qint64 bytes = 0;
    };

    Shard &shardFor(const QByteArray &key);
    void erase(Shard &shard, std::list<Entry>::iterator it); // shard locked

    std::vector<std::unique_ptr<Shard>> m_shards;
    qint64 m_shardEntries;
    qint64 m_shardBytes;
    std::atomic<qint64> m_entries {0};
    std::atomic<qint64> m_bytes {0};
    std::atomic<quint64> m_evictions {0};
};

} // namespace Gateway::Cache
