#pragma once

#include "redisconnection.h"

namespace Gateway::Shared {

// The Lua scripts that make the shared limit store atomic: Redis runs a script alone,
// so "check every limit of key and team, then charge all of them" cannot interleave
// with another gateway's request. Same rules as Governance::Account (token buckets in
// units of 1/60000, budgets over UTC windows counting reservations in flight); the
// layout of keys and arguments is documented in limitscripts.cpp.
const RedisScript &reserveScript();
const RedisScript &applyScript();

} // namespace Gateway::Shared
