#include "exactcache.h"

#include <QHash>

#include <algorithm>

namespace Gateway::Cache {

std::size_t ExactCache::KeyHash::operator()(const QByteArray &key) const noexcept
{
    return qHash(key);
}

ExactCache::ExactCache(qint64 maxEntries, qint64 maxBytes, int shards)
{
    const int count = std::max(1, shards);
    m_shards.reserve(static_cast<std::size_t>(count));
    for (int i = 0; i < count; ++i) {
        m_shards.push_back(std::make_unique<Shard>());
    }
    // Each shard gets its share, rounded up: the totals can exceed the bounds by less
    // than one entry (or one share of bytes) per shard.
    m_shardEntries = std::max<qint64>(1, (maxEntries + count - 1) / count);
    m_shardBytes = std::max<qint64>(1, (maxBytes + count - 1) / count);
}

ExactCache::Shard &ExactCache::shardFor(const QByteArray &key)
{
    // The key is a SHA-256 digest: its first byte is uniform.
    const auto byte = key.isEmpty() ? 0u : static_cast<unsigned char>(key.front());
    return *m_shards[byte % m_shards.size()];
}

void ExactCache::erase(Shard &shard, std::list<Entry>::iterator it)
{
    shard.bytes -= it->bytes;
    m_bytes.fetch_sub(it->bytes, std::memory_order_relaxed);
    m_entries.fetch_sub(1, std::memory_order_relaxed);
    shard.index.erase(it->key);
    shard.lru.erase(it);
}

AnswerPtr ExactCache::find(const QByteArray &key, qint64 nowMs)
{
    Shard &shard = shardFor(key);
    const std::lock_guard lock {shard.mutex};
    const auto found = shard.index.find(key);
    if (found == shard.index.end()) {
        return nullptr;
    }
    const auto it = found->second;
    if (it->expiresAtMs <= nowMs) {
        erase(shard, it);
        return nullptr;
    }
    shard.lru.splice(shard.lru.begin(), shard.lru, it);
    return it->answer;
}

void ExactCache::insert(const QByteArray &key, AnswerPtr answer, qint64 expiresAtMs)
{
    const qint64 bytes = answer->footprint() + key.size();
    if (bytes > m_shardBytes) {
        return;
    }
    Shard &shard = shardFor(key);
    const std::lock_guard lock {shard.mutex};
    if (const auto found = shard.index.find(key); found != shard.index.end()) {
        erase(shard, found->second);
    }
    shard.lru.push_front(Entry {key, std::move(answer), expiresAtMs, bytes});
    shard.index.emplace(key, shard.lru.begin());
    shard.bytes += bytes;
    m_bytes.fetch_add(bytes, std::memory_order_relaxed);
    m_entries.fetch_add(1, std::memory_order_relaxed);
    while (static_cast<qint64>(shard.lru.size()) > m_shardEntries || shard.bytes > m_shardBytes) {
        erase(shard, std::prev(shard.lru.end()));
        m_evictions.fetch_add(1, std::memory_order_relaxed);
    }
}

} // namespace Gateway::Cache
