#include "threadconnections.h"

#include <algorithm>
#include <atomic>
#include <vector>

namespace Gateway::Shared {

namespace {

struct ThreadConnection {
    quint64 storeId = 0;
    quint64 generation = 0;
    std::unique_ptr<RedisConnection> connection;
};
// A thread serves few stores (the limit store, the MCP session store): a short list.
thread_local std::vector<ThreadConnection> threadConnections;

} // namespace

RedisConnection *threadConnection(quint64 storeId, quint64 generation,
                                  const std::function<std::unique_ptr<RedisConnection>(QString &error)> &open,
                                  QString &error)
{
    auto it = std::find_if(threadConnections.begin(), threadConnections.end(),
                           [storeId](const ThreadConnection &entry) { return entry.storeId == storeId; });
    if (it == threadConnections.end()) {
        it = threadConnections.insert(threadConnections.end(), ThreadConnection {storeId, 0, nullptr});
    }
    if (it->connection && it->generation == generation && !it->connection->broken()) {
        return it->connection.get();
    }
    it->connection = open(error);
    it->generation = generation;
    return it->connection.get();
}

quint64 newStoreId()
{
    static std::atomic<quint64> next {1};
    return next.fetch_add(1, std::memory_order_relaxed);
}

} // namespace Gateway::Shared
