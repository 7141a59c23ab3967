#include "limitscripts.h"

namespace Gateway::Shared {

namespace {

// Shared by both scripts: a token bucket (limit per minute, level scaled by 60000 so a
// millisecond refills exactly `limit` units) read from the account hash. A changed limit
// starts the bucket over full, as TokenBucket::reset does.
constexpr char BUCKET_LUA[] = R"LUA(
local SCALE = 60000
local function refill(limit, storedLimit, level, last, now)
  if limit <= 0 then return 0, now end
  if storedLimit ~= limit or level == nil or last == nil then return limit * SCALE, now end
  if now > last then
    level = math.min(limit * SCALE, level + math.min(now - last, SCALE) * limit)
    last = now
  end
  return level, last
end
)LUA";

// KEYS: per account (key first, then team) its state hash, its UTC-day window hash and
// its UTC-month window hash.
// ARGV: now_ms, tokens, nanos, accounts, account_ttl_ms, then per account
//       rpm, tpm, max_concurrent, usd_day_nanos, usd_month_nanos, tokens_day, tokens_month.
// Returns {1} when every limit passed and all were charged, else
//         {0, limit_kind, account_index, wait_ms} with limit_kind as Governance::LimitKind.
constexpr char RESERVE_LUA[] = R"LUA(
local now = tonumber(ARGV[1])
local tokens = tonumber(ARGV[2])
local nanos = tonumber(ARGV[3])
local n = tonumber(ARGV[4])
local function canTake(limit, level, amount)
  return limit <= 0 or level >= amount * SCALE or level == limit * SCALE
end
local function waitFor(limit, level, amount)
  local needed = math.min(amount, limit) * SCALE
  if level >= needed then return 0 end
  return math.ceil((needed - level) / limit)
end
local state = {}
for i = 1, n do
  local a = 5 + (i - 1) * 7
  local rpm, tpm, maxc = tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3])
  local usdDay, usdMonth = tonumber(ARGV[a + 4]), tonumber(ARGV[a + 5])
  local tokDay, tokMonth = tonumber(ARGV[a + 6]), tonumber(ARGV[a + 7])
  local k = (i - 1) * 3
  local h = redis.call('HMGET', KEYS[k + 1], 'rl', 'rv', 'rt', 'tl', 'tv', 'tt', 'inflight', 'rn', 'rtk')
  local s = {rpm = rpm, tpm = tpm}
  s.rv, s.rt = refill(rpm, tonumber(h[1]), tonumber(h[2]), tonumber(h[3]), now)
  s.tv, s.tt = refill(tpm, tonumber(h[4]), tonumber(h[5]), tonumber(h[6]), now)
  local inflight = tonumber(h[7]) or 0
  local rn = tonumber(h[8]) or 0
  local rtk = tonumber(h[9]) or 0
  local idx = i - 1
  if maxc > 0 and inflight >= maxc then return {0, 2, idx, 1000} end
  if not canTake(rpm, s.rv, 1) then return {0, 0, idx, waitFor(rpm, s.rv, 1)} end
  if not canTake(tpm, s.tv, tokens) then return {0, 1, idx, waitFor(tpm, s.tv, tokens)} end
  if usdDay > 0 or usdMonth > 0 or tokDay > 0 or tokMonth > 0 then
    local d = redis.call('HMGET', KEYS[k + 2], 'n', 't')
    local m = redis.call('HMGET', KEYS[k + 3], 'n', 't')
    local dn, dt = tonumber(d[1]) or 0, tonumber(d[2]) or 0
    local mn, mt = tonumber(m[1]) or 0, tonumber(m[2]) or 0
    if usdDay > 0 and dn + rn + nanos > usdDay then return {0, 3, idx, 0} end
    if usdMonth > 0 and mn + rn + nanos > usdMonth then return {0, 4, idx, 0} end
    if tokDay > 0 and dt + rtk + tokens > tokDay then return {0, 5, idx, 0} end
    if tokMonth > 0 and mt + rtk + tokens > tokMonth then return {0, 6, idx, 0} end
  end
  state[i] = s
end
for i = 1, n do
  local s = state[i]
  local acct = KEYS[(i - 1) * 3 + 1]
  if s.rpm > 0 then redis.call('HSET', acct, 'rl', s.rpm, 'rv', s.rv - SCALE, 'rt', s.rt) end
  if s.tpm > 0 then redis.call('HSET', acct, 'tl', s.tpm, 'tv', s.tv - tokens * SCALE, 'tt', s.tt) end
  redis.call('HINCRBY', acct, 'inflight', 1)
  redis.call('HINCRBY', acct, 'rn', ARGV[3])
  redis.call('HINCRBY', acct, 'rtk', ARGV[2])
  redis.call('PEXPIRE', acct, ARGV[5])
end
return {1}
)LUA";

// Settlement, and usage pushed after an outage. Releases `releases` reservations of
// est_tokens / est_nanos (in flight, reserved), corrects the tpm bucket by the real
// tokens minus the estimate, commits the usage to the day and month windows and reports
// soft-limit crossings once per window (HSETNX of an alerted flag, fleet-wide).
// KEYS: as for reserve.
// ARGV: now_ms, est_tokens, est_nanos, day_tokens, day_nanos, month_tokens, month_nanos,
//       releases, accounts, day_expire_at_ms, month_expire_at_ms, account_ttl_ms, then per
//       account tpm, usd_day_nanos, usd_month_nanos, tokens_day, tokens_month,
//       soft_fraction. A zero tpm leaves the bucket alone; zero budgets raise no alert.
// Returns {account_index, limit_kind, spent, ...} for each crossing.
constexpr char APPLY_LUA[] = R"LUA(
local now = tonumber(ARGV[1])
local estTokens, estNanos = tonumber(ARGV[2]), tonumber(ARGV[3])
local dayTokens, dayNanos = tonumber(ARGV[4]), tonumber(ARGV[5])
local monthTokens, monthNanos = tonumber(ARGV[6]), tonumber(ARGV[7])
local releases = tonumber(ARGV[8])
local n = tonumber(ARGV[9])
local alerts = {}
for i = 1, n do
  local a = 12 + (i - 1) * 6
  local tpm = tonumber(ARGV[a + 1])
  local usdDay, usdMonth = tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3])
  local tokDay, tokMonth = tonumber(ARGV[a + 4]), tonumber(ARGV[a + 5])
  local soft = tonumber(ARGV[a + 6])
  local k = (i - 1) * 3
  local acct, day, month = KEYS[k + 1], KEYS[k + 2], KEYS[k + 3]
  local idx = i - 1
  if releases > 0 then
    local h = redis.call('HMGET', acct, 'inflight', 'rn', 'rtk')
    redis.call('HSET', acct,
      'inflight', math.max(0, (tonumber(h[1]) or 0) - releases),
      'rn', math.max(0, (tonumber(h[2]) or 0) - estNanos),
      'rtk', math.max(0, (tonumber(h[3]) or 0) - estTokens))
    redis.call('PEXPIRE', acct, ARGV[12])
  end
  if tpm > 0 and dayTokens ~= estTokens then
    local h = redis.call('HMGET', acct, 'tl', 'tv', 'tt')
    local level, last = refill(tpm, tonumber(h[1]), tonumber(h[2]), tonumber(h[3]), now)
    level = math.min(tpm * SCALE, level - (dayTokens - estTokens) * SCALE)
    redis.call('HSET', acct, 'tl', tpm, 'tv', level, 'tt', last)
    redis.call('PEXPIRE', acct, ARGV[12])
  end
  local dn, dt, mn, mt
  if dayTokens ~= 0 or dayNanos ~= 0 then
    dn = redis.call('HINCRBY', day, 'n', ARGV[5])
    dt = redis.call('HINCRBY', day, 't', ARGV[4])
    redis.call('PEXPIREAT', day, ARGV[10])
  end
  if monthTokens ~= 0 or monthNanos ~= 0 then
    mn = redis.call('HINCRBY', month, 'n', ARGV[7])
    mt = redis.call('HINCRBY', month, 't', ARGV[6])
    redis.call('PEXPIREAT', month, ARGV[11])
  end
  local function cross(limit, spent, window, flag, kind)
    if limit > 0 and spent and spent >= soft * limit and redis.call('HSETNX', window, flag, 1) == 1 then
      table.insert(alerts, idx)
      table.insert(alerts, kind)
      table.insert(alerts, spent)
    end
  end
  cross(usdDay, dn, day, 'ua', 3)
  cross(tokDay, dt, day, 'ta', 5)
  cross(usdMonth, mn, month, 'ua', 4)
  cross(tokMonth, mt, month, 'ta', 6)
end
return alerts
)LUA";

} // namespace

const RedisScript &reserveScript()
{
    static const RedisScript script {QByteArray(BUCKET_LUA) + QByteArray(RESERVE_LUA)};
    return script;
}

const RedisScript &applyScript()
{
    static const RedisScript script {QByteArray(BUCKET_LUA) + QByteArray(APPLY_LUA)};
    return script;
}

} // namespace Gateway::Shared
