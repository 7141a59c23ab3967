#pragma once

#include "redisconnection.h"

#include <QString>

#include <functional>
#include <memory>

namespace Gateway::Shared {

// Each data-plane thread's own Redis connection per store (hiredis connections are not
// shared between threads). A store names itself by an id unique in the process and says
// which up-generation it is in: a connection from before the last outage, or one that
// broke, is replaced by a new one from `open`. Returns null (with `error` set) when the
// new connection cannot be opened; the caller marks its store down.
RedisConnection *threadConnection(quint64 storeId, quint64 generation,
                                  const std::function<std::unique_ptr<RedisConnection>(QString &error)> &open,
                                  QString &error);

// A process-unique id for a store's connections.
quint64 newStoreId();

} // namespace Gateway::Shared
