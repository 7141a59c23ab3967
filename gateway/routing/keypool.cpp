#include "keypool.h"

#include <algorithm>
#include <utility>

namespace Gateway::Routing {

namespace {

// An eligible key never gets weight 0, however little headroom it has left.
constexpr double MIN_PICK_WEIGHT = 1e-9;

qint64 floorDiv(qint64 a, qint64 b)
{
    const qint64 q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

std::size_t slotOf(qint64 epoch)
{
    const qint64 n = KeyPool::USAGE_BUCKETS;
    return static_cast<std::size_t>(((epoch % n) + n) % n);
}

} // namespace

KeyPool::KeyState::KeyState(ProviderKey key, const HealthSettings &healthSettings)
    : config {std::move(key)}
    , health {healthSettings}
{
}

KeyPool::KeyPool(std::vector<ProviderKey> keys, const KeyPoolSettings &settings)
    : m_settings {settings}
    , m_weights(keys.size(), 0.0)
{
    m_keys.reserve(keys.size());
    for (auto &key : keys) {
        key.rpm = std::max(key.rpm, 0);
        key.tpm = std::max<std::int64_t>(key.tpm, 0);
        m_keys.push_back(std::make_unique<KeyState>(std::move(key), m_settings.health));
    }
}

KeyPool::~KeyPool() = default;

int KeyPool::pick(qint64 nowMs, std::int64_t expectedTokens, Rng &rng, bool *probe, int avoidKey)
{
    expectedTokens = std::max<std::int64_t>(expectedTokens, 0);
    const std::lock_guard lock {m_mutex};
    double total = 0.0;
    for (std::size_t i = 0; i < m_keys.size(); ++i) {
        KeyState &key = *m_keys[i];
        m_weights[i] = 0.0;
        const Headroom room = headroom(key, nowMs, expectedTokens);
        if (!room.eligible) {
            continue;
        }
        const HealthReading health = key.health.reading(nowMs);
        if (!health.available || (health.probing && probe == nullptr)) {
            continue;
        }
        const double share = std::min(room.requestShare, room.tokenShare);
        m_weights[i] = std::max(share * health.weightMultiplier, MIN_PICK_WEIGHT);
        total += m_weights[i];
    }
    // A retry after this key's own failure goes elsewhere while another key can take it.
    if (avoidKey >= 0 && static_cast<std::size_t>(avoidKey) < m_keys.size()) {
        const double avoided = m_weights[static_cast<std::size_t>(avoidKey)];
        if (avoided > 0.0 && total - avoided > 0.0) {
            total -= avoided;
            m_weights[static_cast<std::size_t>(avoidKey)] = 0.0;
        }
    }
    // Normally one round; more only if a circuit changed between reading and admitting.
    while (total > 0.0) {
        const double target = rng.uniform() * total;
        double cumulative = 0.0;
        std::size_t chosen = m_keys.size();
        for (std::size_t i = 0; i < m_keys.size(); ++i) {
            if (m_weights[i] <= 0.0) {
                continue;
            }
            chosen = i; // the last eligible key absorbs rounding at the top end
            cumulative += m_weights[i];
            if (target < cumulative) {
                break;
            }
        }
        if (chosen == m_keys.size()) {
            break; // only rounding residue was left in `total`
        }
        KeyState &key = *m_keys[chosen];
        const Admission admission = key.health.admit(nowMs);
        if (admission == Admission::Rejected || (admission == Admission::Probe && probe == nullptr)) {
            if (admission == Admission::Probe) {
                key.health.cancelProbe();
            }
            total -= m_weights[chosen];
            m_weights[chosen] = 0.0;
            continue;
        }
        if (probe != nullptr) {
            *probe = admission == Admission::Probe;
        }
        const std::size_t slot = slotOf(key.headEpoch);
        key.requests[slot] += 1;
        key.tokens[slot] += expectedTokens;
        key.usedRequests += 1;
        key.usedTokens += expectedTokens;
        key.picks += 1;
        key.reservedTokens += expectedTokens;
        return static_cast<int>(chosen);
    }
    if (probe != nullptr) {
        *probe = false;
    }
    return -1;
}

qint64 KeyPool::nextAvailableMs(qint64 nowMs, std::int64_t expectedTokens) const
{
    expectedTokens = std::max<std::int64_t>(expectedTokens, 0);
    const std::lock_guard lock {m_mutex};
    qint64 earliest = std::numeric_limits<qint64>::max();
    for (const auto &keyPtr : m_keys) {
        KeyState &key = *keyPtr;
        const Headroom room = headroom(key, nowMs, expectedTokens);
        qint64 at = room.eligible ? nowMs : room.availableAtMs;
        const HealthReading health = key.health.reading(nowMs);
        if (health.state == HealthState::Failed) {
            at = std::max(at, health.openUntilMs);
        } else if (!health.available) {
            // Half-open with every probe slot taken: free when a probe ends, which cannot
            // be predicted; one default cool-down is a fair guess for a retry.
            at = std::max(at, nowMs + m_settings.defaultCooldownMs);
        }
        earliest = std::min(earliest, at);
    }
    return earliest == std::numeric_limits<qint64>::max() ? nowMs : std::max(earliest, nowMs);
}

void KeyPool::settle(int key, std::int64_t reservedTokens, std::int64_t actualTokens, qint64 nowMs, qint64 pickedAtMs)
{
    if (key < 0 || key >= size()) {
        return;
    }
    const std::lock_guard lock {m_mutex};
    KeyState &state = *m_keys[static_cast<std::size_t>(key)];
    advanceUsage(state, nowMs);
    const std::int64_t delta = std::max<std::int64_t>(actualTokens, 0) - std::max<std::int64_t>(reservedTokens, 0);
    if (delta >= 0) {
        // Tokens beyond the reservation count from now: late, so never early to expire.
        state.tokens[slotOf(state.headEpoch)] += delta;
        state.usedTokens += delta;
        state.reservedTokens += delta;
        return;
    }
    std::int64_t refund = -delta;
    const qint64 oldest = state.headEpoch - USAGE_BUCKETS + 1;
    qint64 epoch = pickedAtMs >= 0 ? std::min(floorDiv(pickedAtMs, USAGE_BUCKET_MS), state.headEpoch) : state.headEpoch;
    for (; epoch >= oldest && refund > 0; --epoch) {
        std::int64_t &bucket = state.tokens[slotOf(epoch)];
        const std::int64_t take = std::min(refund, bucket);
        bucket -= take;
        state.usedTokens -= take;
        refund -= take;
    }
}

void KeyPool::observeHeaders(int key, const RateLimitHeaders &headers, qint64 nowMs)
{
    if (key < 0 || key >= size()) {
        return;
    }
    const std::lock_guard lock {m_mutex};
    KeyState &state = *m_keys[static_cast<std::size_t>(key)];
    const auto observe = [&](UpstreamBudget &budget, std::int64_t remaining, std::int64_t limit, qint64 resetMs,
                             std::int64_t usedNow) {
        if (remaining < 0) {
            return;
        }
        // Without a reset time: an exhausted budget is retried after the default cool-down,
        // other counts are trusted for one minute.
        const qint64 validFor = resetMs >= 0 ? resetMs : (remaining == 0 ? m_settings.defaultCooldownMs : MINUTE_MS);
        budget = UpstreamBudget {remaining, limit, nowMs + validFor, usedNow};
        if (remaining == 0) {
            coolDown(state, nowMs + validFor);
        }
    };
    observe(state.upstreamRequests, headers.remainingRequests, headers.limitRequests, headers.resetRequestsMs,
            state.picks);
    observe(state.upstreamTokens, headers.remainingTokens, headers.limitTokens, headers.resetTokensMs,
            state.reservedTokens);
}

void KeyPool::observe429(int key, qint64 retryAfterMs, qint64 nowMs)
{
    if (key < 0 || key >= size()) {
        return;
    }
    const std::lock_guard lock {m_mutex};
    KeyState &state = *m_keys[static_cast<std::size_t>(key)];
    if (state.coolingUntilMs <= nowMs) {
        ++state.rateLimitStreak; // a fresh 429, not the echo of one already cooling down
    }
    qint64 cooldown = retryAfterMs;
    if (cooldown < 0) {
        cooldown = std::max<qint64>(m_settings.defaultCooldownMs, 0);
        const qint64 cap = std::max(m_settings.maxCooldownMs, cooldown);
        for (int i = 1; i < state.rateLimitStreak && cooldown < cap; ++i) {
            cooldown *= 2;
        }
        cooldown = std::min(cooldown, cap);
    }
    coolDown(state, nowMs + cooldown);
}

void KeyPool::recordSuccess(int key, qint64 nowMs, bool wasProbe)
{
    if (key < 0 || key >= size()) {
        return;
    }
    const std::lock_guard lock {m_mutex};
    KeyState &state = *m_keys[static_cast<std::size_t>(key)];
    state.rateLimitStreak = 0;
    state.health.recordSuccess(nowMs, wasProbe);
}

void KeyPool::recordFailure(int key, qint64 nowMs, QByteArrayView reason, bool wasProbe)
{
    if (key < 0 || key >= size()) {
        return;
    }
    // The tracker has its own lock; the pool's is not needed.
    m_keys[static_cast<std::size_t>(key)]->health.recordFailure(nowMs, reason, wasProbe);
}

HealthTracker &KeyPool::health(int key)
{
    return keyAt(key).health;
}

std::vector<KeyStatus> KeyPool::status(qint64 nowMs) const
{
    const std::lock_guard lock {m_mutex};
    std::vector<KeyStatus> result;
    result.reserve(m_keys.size());
    for (const auto &keyPtr : m_keys) {
        KeyState &key = *keyPtr;
        const Headroom room = headroom(key, nowMs, 0);
        KeyStatus status;
        status.name = key.config.name;
        status.coolingDown = key.coolingUntilMs > nowMs;
        status.coolingUntilMs = status.coolingDown ? key.coolingUntilMs : 0;
        status.requestHeadroom = room.requestShare;
        status.tokenHeadroom = room.tokenShare;
        status.usedRequestsLastMinute = key.usedRequests;
        status.usedTokensLastMinute = key.usedTokens;
        status.health = key.health.state(nowMs);
        result.push_back(std::move(status));
    }
    return result;
}

KeyPool::KeyState &KeyPool::keyAt(int key) const
{
    Q_ASSERT(key >= 0 && key < size());
    return *m_keys[static_cast<std::size_t>(std::clamp(key, 0, size() - 1))];
}

// Moves the ring's head to nowMs, dropping buckets that left the minute. Time never
// runs backwards here: an older nowMs counts in the newest bucket.
void KeyPool::advanceUsage(KeyState &key, qint64 nowMs)
{
    const qint64 epoch = floorDiv(nowMs, USAGE_BUCKET_MS);
    if (key.headEpoch == std::numeric_limits<qint64>::min()) {
        key.headEpoch = epoch;
        return;
    }
    if (epoch <= key.headEpoch) {
        return;
    }
    if (epoch - key.headEpoch >= USAGE_BUCKETS) {
        key.requests.fill(0);
        key.tokens.fill(0);
        key.usedRequests = 0;
        key.usedTokens = 0;
    } else {
        for (qint64 e = key.headEpoch + 1; e <= epoch; ++e) {
            const std::size_t slot = slotOf(e);
            key.usedRequests -= key.requests[slot];
            key.usedTokens -= key.tokens[slot];
            key.requests[slot] = 0;
            key.tokens[slot] = 0;
        }
    }
    key.headEpoch = epoch;
}

KeyPool::Headroom KeyPool::headroom(KeyState &key, qint64 nowMs, std::int64_t expectedTokens) const
{
    advanceUsage(key, nowMs);
    Headroom room;
    const auto block = [&room](qint64 untilMs) {
        room.eligible = false;
        room.availableAtMs = std::max(room.availableAtMs, untilMs);
    };
    if (key.coolingUntilMs > nowMs) {
        block(key.coolingUntilMs);
    }

    const int rpm = key.config.rpm;
    if (rpm > 0) {
        room.requestShare = static_cast<double>(std::max(rpm - key.usedRequests, 0)) / rpm;
        if (key.usedRequests >= rpm) {
            block(usageFreesAtMs(key, key.usedRequests - rpm + 1, 0));
        }
    }
    const std::int64_t tpm = key.config.tpm;
    if (tpm > 0) {
        const std::int64_t left = std::max<std::int64_t>(tpm - key.usedTokens, 0);
        room.tokenShare = static_cast<double>(left) / static_cast<double>(tpm);
        if (key.usedTokens > 0 && key.usedTokens + expectedTokens > tpm) {
            // Enough must leave for the request to fit, or everything (an idle key takes it).
            const std::int64_t mustExpire = std::min(key.usedTokens + expectedTokens - tpm, key.usedTokens);
            block(usageFreesAtMs(key, 0, mustExpire));
        }
    }

    const auto applyUpstream = [&](const UpstreamBudget &budget, std::int64_t usedNow, double &share) {
        if (budget.remaining < 0 || nowMs >= budget.validUntilMs) {
            return;
        }
        const std::int64_t estimate = budget.remaining - (usedNow - budget.usedAtObservation);
        if (budget.limit > 0) {
            const double upstreamShare = static_cast<double>(estimate) / static_cast<double>(budget.limit);
            share = std::min(share, std::clamp(upstreamShare, 0.0, 1.0));
        }
        if (estimate <= 0) {
            block(budget.validUntilMs);
        }
    };
    applyUpstream(key.upstreamRequests, key.picks, room.requestShare);
    applyUpstream(key.upstreamTokens, key.reservedTokens, room.tokenShare);
    return room;
}

// When enough of the oldest usage has left the minute: bucket e expires once the head
// reaches e + USAGE_BUCKETS.
qint64 KeyPool::usageFreesAtMs(const KeyState &key, int expireRequests, std::int64_t expireTokens)
{
    int requests = 0;
    std::int64_t tokens = 0;
    for (qint64 epoch = key.headEpoch - USAGE_BUCKETS + 1; epoch <= key.headEpoch; ++epoch) {
        const std::size_t slot = slotOf(epoch);
        requests += key.requests[slot];
        tokens += key.tokens[slot];
        if (requests >= expireRequests && tokens >= expireTokens) {
            return (epoch + USAGE_BUCKETS) * USAGE_BUCKET_MS;
        }
    }
    return (key.headEpoch + USAGE_BUCKETS) * USAGE_BUCKET_MS;
}

void KeyPool::coolDown(KeyState &key, qint64 untilMs)
{
    key.coolingUntilMs = std::max(key.coolingUntilMs, untilMs);
}

} // namespace Gateway::Routing
