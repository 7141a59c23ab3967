#pragma once

#include "healthtracker.h"
#include "ratelimitheaders.h"
#include "rng.h"

#include <QString>

#include <array>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <vector>

namespace Gateway::Routing {

// One API key of a provider with its configured limits.
struct ProviderKey {
    QString name;          // for the console and logs, never the secret itself
    int rpm = 0;           // requests per minute; 0 = unlimited
    std::int64_t tpm = 0;  // tokens per minute; 0 = unlimited
};

struct KeyPoolSettings {
    qint64 defaultCooldownMs = 1000; // a 429 without retry-after, or remaining 0 without a reset
    qint64 maxCooldownMs = 60000;    // cap of the exponential backoff of repeated 429s
    HealthSettings health;           // per-key circuit (e.g. 401/403: a revoked key)
};

// Per-key state for the console.
struct KeyStatus {
    QString name;
    bool coolingDown = false;
    qint64 coolingUntilMs = 0;    // monotonic; meaningful while coolingDown
    double requestHeadroom = 1.0; // [0, 1]: share of the request budget left (local and upstream)
    double tokenHeadroom = 1.0;   // [0, 1]: the same for tokens
    int usedRequestsLastMinute = 0;
    std::int64_t usedTokensLastMinute = 0;
    HealthState health = HealthState::Healthy;
};

// The keys of one provider. pick() chooses a key at random, weighted by its headroom
// (the smaller of its request and token headroom shares, unlimited = full) times its
// health weight, among keys that are not cooling down, not out of budget and whose
// circuit admits traffic.
//
// Budgets are tracked twice:
// - locally, over a sliding minute: a pick reserves one request and `expectedTokens`;
//   settle() corrects the reservation with the real usage. The minute is USAGE_BUCKETS
//   buckets of USAGE_BUCKET_MS with one spare, so usage leaves the window between 60.0
//   and 60.1 s after it was counted: never early, so rpm/tpm hold in every 60 s window.
//   A request larger than tpm still goes out on an idle key (the upstream decides).
// - from the upstream's latest headers: the remaining counts, less what was picked since,
//   until their reset. Remaining 0 cools the key down until the reset.
// A 429 cools the key down for its retry-after; without one, for default_cooldown_ms,
// doubling per 429 that arrives after the previous cool-down ended (429s of requests
// already in flight during a cool-down do not double it), up to max_cooldown_ms. A
// success resets the doubling. 429s are not health failures.
//
// Thread safety: one std::mutex guards the pool; each key's HealthTracker has its own
// (always taken after the pool's, never the other way round).
class KeyPool {
public:
    static constexpr qint64 MINUTE_MS = 60000;
    static constexpr qint64 USAGE_BUCKET_MS = 100;
    static constexpr int USAGE_BUCKETS = static_cast<int>(MINUTE_MS / USAGE_BUCKET_MS) + 1;

    explicit KeyPool(std::vector<ProviderKey> keys, const KeyPoolSettings &settings = {});
    ~KeyPool();
    KeyPool(const KeyPool &) = delete;
    KeyPool &operator=(const KeyPool &) = delete;

    int size() const { return static_cast<int>(m_keys.size()); }

    // A key index, or -1 when no key can take the request now (see nextAvailableMs()).
    // Keys whose circuit is half-open are only eligible when `probe` is given: it is set
    // to whether the pick is a probe, to be passed back as `wasProbe`.
    // `avoidKey` (e.g. the key whose 429/401 the request is being retried after) is only
    // picked when no other key can take the request.
    int pick(qint64 nowMs, std::int64_t expectedTokens, Rng &rng, bool *probe = nullptr, int avoidKey = -1);
    // Earliest time (monotonic ms, >= nowMs) at which some key may take a request of
    // `expectedTokens`: cool-downs ending, circuits half-opening, usage leaving the minute.
    // nowMs when a key is available now.
    qint64 nextAvailableMs(qint64 nowMs, std::int64_t expectedTokens = 0) const;

    // Replaces a pick's reservation with the real token count. With `pickedAtMs` (the
    // nowMs of the pick) a refund comes off exactly that reservation; without it, off the
    // newest usage (approximate: the total stays right, the expiry time of the refunded
    // tokens may not).
    void settle(int key, std::int64_t reservedTokens, std::int64_t actualTokens, qint64 nowMs,
                qint64 pickedAtMs = -1);
    void observeHeaders(int key, const RateLimitHeaders &headers, qint64 nowMs);
    // retryAfterMs < 0: the response gave none.
    void observe429(int key, qint64 retryAfterMs, qint64 nowMs);

    // Outcomes for the key's circuit; only failures that are the key's fault (401/403).
    void recordSuccess(int key, qint64 nowMs, bool wasProbe);
    void recordFailure(int key, qint64 nowMs, QByteArrayView reason, bool wasProbe);
    HealthTracker &health(int key);

    std::vector<KeyStatus> status(qint64 nowMs) const;

private:
    // What the upstream last said about one dimension (requests or tokens).
    struct UpstreamBudget {
        std::int64_t remaining = -1;  // -1 = never told
        std::int64_t limit = -1;
        qint64 validUntilMs = 0;      // the reset; afterwards the numbers are stale
        std::int64_t usedAtObservation = 0;
    };
    struct KeyState {
        KeyState(ProviderKey key, const HealthSettings &healthSettings);

        ProviderKey config;
        HealthTracker health;
        // Local usage over the sliding minute: ring of buckets and running totals.
        qint64 headEpoch = std::numeric_limits<qint64>::min();
        std::array<int, USAGE_BUCKETS> requests {};
        std::array<std::int64_t, USAGE_BUCKETS> tokens {};
        int usedRequests = 0;
        std::int64_t usedTokens = 0;
        // Totals since creation, to discount upstream remaining counts by later picks.
        std::int64_t picks = 0;
        std::int64_t reservedTokens = 0;
        UpstreamBudget upstreamRequests;
        UpstreamBudget upstreamTokens;
        qint64 coolingUntilMs = std::numeric_limits<qint64>::min();
        int rateLimitStreak = 0;
    };
    struct Headroom {
        bool eligible = true;
        double requestShare = 1.0;
        double tokenShare = 1.0;
        qint64 availableAtMs = 0; // when not eligible: earliest time it may become so
    };

    KeyState &keyAt(int key) const;
    static void advanceUsage(KeyState &key, qint64 nowMs);
    Headroom headroom(KeyState &key, qint64 nowMs, std::int64_t expectedTokens) const;
    static qint64 usageFreesAtMs(const KeyState &key, int expireRequests, std::int64_t expireTokens);
    void coolDown(KeyState &key, qint64 untilMs);

    const KeyPoolSettings m_settings;
    std::vector<std::unique_ptr<KeyState>> m_keys; // fixed at construction

    mutable std::mutex m_mutex;   // guards every KeyState's fields (not its tracker) and m_weights
    std::vector<double> m_weights; // pick() scratch, sized once
};

} // namespace Gateway::Routing
