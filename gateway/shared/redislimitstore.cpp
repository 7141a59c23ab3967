#include "redislimitstore.h"

#include "threadconnections.h"

#include "limitscripts.h"

#include "governance/utcwindow.h"

#include <QDateTime>
#include <QRandomGenerator>

#include <hiredis/hiredis.h>

#include <algorithm>
#include <array>

namespace Gateway::Shared {

namespace {

using Governance::AccountLimits;
using Governance::LimitKind;

// Account state outlives a quiet spell of two days; windows a day past their end.
constexpr qint64 ACCOUNT_TTL_MS = 2 * Governance::MS_PER_DAY;
const QByteArray EPOCH_KEY = QByteArrayLiteral("switchyard:epoch");


struct AccountRef {
    const QString *name = nullptr;
    bool team = false;
    const AccountLimits *limits = nullptr; // null: push usage only (no bucket, no alerts)
};

// Key first, then team: the order the local store checks in.
int accountsOf(const QString &key, const QString &team, const Governance::Subject *subject,
               std::array<AccountRef, 2> &out)
{
    int n = 0;
    if (!key.isEmpty()) {
        out[static_cast<std::size_t>(n++)] = {&key, false, subject ? &subject->keyLimits : nullptr};
    }
    if (!team.isEmpty()) {
        out[static_cast<std::size_t>(n++)] = {&team, true, subject ? &subject->teamLimits : nullptr};
    }
    return n;
}

QByteArray accountKey(const AccountRef &account)
{
    return QByteArrayLiteral("switchyard:") + (account.team ? "t:" : "k:") + account.name->toUtf8();
}

void appendWindowKeys(std::vector<QByteArray> &keys, const AccountRef &account, qint64 nowMs)
{
    const QByteArray base = accountKey(account);
    keys.push_back(base);
    keys.push_back(base + ":d:" + QByteArray::number(Governance::utcDay(nowMs)));
    keys.push_back(base + ":m:" + QByteArray::number(Governance::utcMonth(nowMs)));
}

QByteArray num(qint64 value)
{
    return QByteArray::number(value);
}

QByteArray budgetNanos(double usd)
{
    return num(usd > 0 ? Governance::usdToNanos(usd) : 0);
}

double limitValueOf(const AccountLimits &limits, LimitKind kind)
{
    switch (kind) {
    case LimitKind::Rpm:
        return static_cast<double>(limits.rates.rpm);
    case LimitKind::Tpm:
        return static_cast<double>(limits.rates.tpm);
    case LimitKind::Concurrency:
        return static_cast<double>(limits.rates.maxConcurrent);
    case LimitKind::UsdPerDay:
        return limits.budgets.usdPerDay;
    case LimitKind::UsdPerMonth:
        return limits.budgets.usdPerMonth;
    case LimitKind::TokensPerDay:
        return static_cast<double>(limits.budgets.tokensPerDay);
    case LimitKind::TokensPerMonth:
        return static_cast<double>(limits.budgets.tokensPerMonth);
    }
    return 0;
}

qint64 integerAt(const redisReply *reply, std::size_t index)
{
    if (!reply || reply->type != REDIS_REPLY_ARRAY || index >= reply->elements) {
        return -1;
    }
    const redisReply *element = reply->element[index];
    return element->type == REDIS_REPLY_INTEGER ? static_cast<qint64>(element->integer) : -1;
}

} // namespace

RedisLimitStore::RedisLimitStore(Governance::LocalLimitStore &local, Settings settings, TransitionHandler onTransition)
    : m_local {local}
    , m_settings {std::move(settings)}
    , m_onTransition {std::move(onTransition)}
    , m_id {newStoreId()}
{
    if (!connectAndReconcile() && m_onTransition) {
        // Starts on local state; the thread below keeps trying.
        m_onTransition({false, m_settings.endpoint.display(), status().lastError, 0, 0});
    }
    m_reconnector = std::thread([this] { reconnectLoop(); });
}

RedisLimitStore::~RedisLimitStore()
{
    {
        const std::lock_guard lock {m_stateMutex};
        m_stopping = true;
    }
    m_wake.notify_all();
    m_reconnector.join();
}

qint64 RedisLimitStore::nowMs() const
{
    return m_settings.wallClockMs ? m_settings.wallClockMs() : QDateTime::currentMSecsSinceEpoch();
}

void RedisLimitStore::bind(Governance::Subject &subject)
{
    m_local.bind(subject);
}

RedisConnection *RedisLimitStore::workerConnection(quint64 &generation)
{
    if (!m_up.load(std::memory_order_acquire)) {
        return nullptr;
    }
    generation = m_generation.load(std::memory_order_acquire);
    QString error;
    RedisConnection *connection = threadConnection(
        m_id, generation,
        [this](QString &why) {
            RedisEndpoint endpoint;
            {
                const std::lock_guard lock {m_stateMutex};
                endpoint = m_resolved;
            }
            return RedisConnection::open(endpoint, m_settings.timeouts, why);
        },
        error);
    if (!connection) {
        markDown(generation, error);
    }
    return connection;
}

void RedisLimitStore::markDown(quint64 generation, const QString &error)
{
    m_errors.fetch_add(1, std::memory_order_relaxed);
    // A failure on a connection of an earlier generation says nothing about the new one.
    if (generation != m_generation.load(std::memory_order_acquire)) {
        return;
    }
    if (!m_up.exchange(false, std::memory_order_acq_rel)) {
        return;
    }
    RedisTransition transition {false, m_settings.endpoint.display(), error, 0, 0};
    {
        const std::lock_guard lock {m_stateMutex};
        m_lastError = error;
        m_changedAtMs = QDateTime::currentMSecsSinceEpoch();
    }
    m_wake.notify_all();
    if (m_onTransition) {
        m_onTransition(transition);
    }
}

bool RedisLimitStore::reserve(const Governance::Subject *subject, qint64 tokens, qint64 costNanos, qint64 nowMs,
                              Governance::Reservation &out, Governance::Refusal &refusal)
{
    const bool accounted = subject && (!subject->key.isEmpty() || !subject->team.isEmpty());
    if (accounted) {
        quint64 generation = 0;
        if (RedisConnection *connection = workerConnection(generation)) {
            switch (reserveShared(*connection, *subject, tokens, costNanos, nowMs, refusal)) {
            case Outcome::Admitted:
                m_sharedReservations.fetch_add(1, std::memory_order_relaxed);
                out = Governance::Reservation {};
                out.id = m_local.takeReservationId();
                out.subject = subject;
                out.tokens = tokens;
                out.costNanos = costNanos;
                out.active = true;
                out.shared = true;
                return true;
            case Outcome::Refused:
                return false;
            case Outcome::Failed:
                markDown(generation, connection->lastError());
                break;
            }
        }
        m_fallbackReservations.fetch_add(1, std::memory_order_relaxed);
    }
    return m_local.reserve(subject, tokens, costNanos, nowMs, out, refusal);
}

RedisLimitStore::Outcome RedisLimitStore::reserveShared(RedisConnection &connection, const Governance::Subject &subject,
                                                        qint64 tokens, qint64 costNanos, qint64 nowMs,
                                                        Governance::Refusal &refusal)
{
    std::array<AccountRef, 2> accounts;
    const int n = accountsOf(subject.key, subject.team, &subject, accounts);
    std::vector<QByteArray> keys;
    std::vector<QByteArray> arguments;
    keys.reserve(6);
    arguments.reserve(5 + 7 * 2);
    arguments.push_back(num(nowMs));
    arguments.push_back(num(tokens));
    arguments.push_back(num(costNanos));
    arguments.push_back(num(n));
    arguments.push_back(num(ACCOUNT_TTL_MS));
    for (int i = 0; i < n; ++i) {
        const AccountRef &account = accounts[static_cast<std::size_t>(i)];
        appendWindowKeys(keys, account, nowMs);
        const AccountLimits &limits = *account.limits;
        arguments.push_back(num(limits.rates.rpm));
        arguments.push_back(num(limits.rates.tpm));
        arguments.push_back(num(limits.rates.maxConcurrent));
        arguments.push_back(budgetNanos(limits.budgets.usdPerDay));
        arguments.push_back(budgetNanos(limits.budgets.usdPerMonth));
        arguments.push_back(num(limits.budgets.tokensPerDay));
        arguments.push_back(num(limits.budgets.tokensPerMonth));
    }
    const ReplyPtr reply = connection.evalScript(reserveScript(), keys, arguments);
    if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements < 1) {
        return Outcome::Failed;
    }
    if (integerAt(reply.get(), 0) == 1) {
        return Outcome::Admitted;
    }
    const qint64 kindIndex = integerAt(reply.get(), 1);
    const qint64 accountIndex = integerAt(reply.get(), 2);
    const qint64 waitMs = integerAt(reply.get(), 3);
    if (kindIndex < 0 || kindIndex >= Governance::LIMIT_KIND_COUNT || accountIndex < 0 || accountIndex >= n) {
        return Outcome::Failed;
    }
    const AccountRef &account = accounts[static_cast<std::size_t>(accountIndex)];
    const auto kind = static_cast<LimitKind>(kindIndex);
    refusal.kind = kind;
    refusal.team = account.team;
    refusal.subject = *account.name;
    refusal.limitValue = limitValueOf(*account.limits, kind);
    switch (kind) {
    case LimitKind::UsdPerDay:
    case LimitKind::TokensPerDay:
        refusal.resetAtMs = Governance::nextUtcDayStartMs(nowMs);
        break;
    case LimitKind::UsdPerMonth:
    case LimitKind::TokensPerMonth:
        refusal.resetAtMs = Governance::nextUtcMonthStartMs(nowMs);
        break;
    default:
        refusal.resetAtMs = nowMs + std::max<qint64>(0, waitMs);
        break;
    }
    return Outcome::Refused;
}

bool RedisLimitStore::applyShared(RedisConnection &connection, const Governance::Subject *subject,
                                  const BacklogEntry &usage, qint64 monthTokens, qint64 monthNanos,
                                  Governance::SettleAlerts *alerts)
{
    std::array<AccountRef, 2> accounts;
    const int n = accountsOf(usage.key, usage.team, subject, accounts);
    if (n == 0) {
        return true;
    }
    const qint64 at = usage.atMs;
    std::vector<QByteArray> keys;
    std::vector<QByteArray> arguments;
    keys.reserve(6);
    arguments.reserve(12 + 6 * 2);
    for (qint64 value : {at, usage.estimatedTokens, usage.estimatedNanos, usage.tokens, usage.nanos, monthTokens,
                         monthNanos, usage.releases, static_cast<qint64>(n),
                         Governance::nextUtcDayStartMs(at) + Governance::MS_PER_DAY,
                         Governance::nextUtcMonthStartMs(at) + Governance::MS_PER_DAY, ACCOUNT_TTL_MS}) {
        arguments.push_back(num(value));
    }
    for (int i = 0; i < n; ++i) {
        const AccountRef &account = accounts[static_cast<std::size_t>(i)];
        appendWindowKeys(keys, account, at);
        const AccountLimits none;
        const AccountLimits &limits = account.limits ? *account.limits : none;
        arguments.push_back(num(limits.rates.tpm));
        arguments.push_back(budgetNanos(limits.budgets.usdPerDay));
        arguments.push_back(budgetNanos(limits.budgets.usdPerMonth));
        arguments.push_back(num(limits.budgets.tokensPerDay));
        arguments.push_back(num(limits.budgets.tokensPerMonth));
        arguments.push_back(QByteArray::number(limits.budgets.softFraction, 'g', 6));
    }
    const ReplyPtr reply = connection.evalScript(applyScript(), keys, arguments);
    if (!reply || reply->type != REDIS_REPLY_ARRAY) {
        return false;
    }
    for (std::size_t i = 0; alerts && i + 2 < reply->elements; i += 3) {
        const qint64 accountIndex = integerAt(reply.get(), i);
        const qint64 kindIndex = integerAt(reply.get(), i + 1);
        const qint64 spent = integerAt(reply.get(), i + 2);
        if (accountIndex < 0 || accountIndex >= n || kindIndex < 0 || kindIndex >= Governance::LIMIT_KIND_COUNT) {
            continue;
        }
        const AccountRef &account = accounts[static_cast<std::size_t>(accountIndex)];
        const auto kind = static_cast<LimitKind>(kindIndex);
        const bool usd = kind == LimitKind::UsdPerDay || kind == LimitKind::UsdPerMonth;
        const bool day = kind == LimitKind::UsdPerDay || kind == LimitKind::TokensPerDay;
        alerts->add({kind, account.team, *account.name, limitValueOf(*account.limits, kind),
                     usd ? Governance::nanosToUsd(spent) : static_cast<double>(spent),
                     account.limits->budgets.softFraction,
                     day ? Governance::utcDayStartMs(at) : Governance::utcMonthStartMs(at)});
    }
    return true;
}

void RedisLimitStore::settle(Governance::Reservation &reservation, qint64 actualTokens, qint64 actualNanos,
                             qint64 nowMs, Governance::SettleAlerts &alerts)
{
    if (!reservation.active) {
        return;
    }
    const Governance::Subject *subject = reservation.subject;
    if (!reservation.shared) {
        // Reserved locally during an outage: settled here, and its usage owed to Redis.
        m_local.settle(reservation, actualTokens, actualNanos, nowMs, alerts);
        if (subject) {
            deliver({subject->key, subject->team, nowMs, 0, 0, 0, actualTokens, actualNanos});
        }
        return;
    }
    reservation.active = false;
    if (!subject) {
        return;
    }
    m_local.record(subject, actualTokens, actualNanos, nowMs);
    const BacklogEntry usage {subject->key,       subject->team, nowMs,        1, reservation.tokens,
                              reservation.costNanos, actualTokens,  actualNanos};
    quint64 generation = 0;
    if (RedisConnection *connection = workerConnection(generation)) {
        if (applyShared(*connection, subject, usage, actualTokens, actualNanos, &alerts)) {
            return;
        }
        markDown(generation, connection->lastError());
    }
    deliver(usage);
}

void RedisLimitStore::deliver(const BacklogEntry &usage)
{
    // Two tries at most: Redis may come back between the check and the push.
    for (int attempt = 0; attempt < 2; ++attempt) {
        {
            const std::lock_guard lock {m_handoverMutex};
            if (!m_up.load(std::memory_order_acquire)) {
                m_backlog.add(usage);
                return;
            }
        }
        quint64 generation = 0;
        if (RedisConnection *connection = workerConnection(generation)) {
            // Usage only: a soft-limit crossing is caught by the next live settlement.
            if (applyShared(*connection, nullptr, usage, usage.tokens, usage.nanos, nullptr)) {
                return;
            }
            markDown(generation, connection->lastError());
        }
    }
    m_backlog.add(usage);
}

bool RedisLimitStore::connectAndReconcile()
{
    // Resolved here, on this thread, each time: a name may move to another address.
    RedisEndpoint resolved = m_settings.endpoint;
    resolved.host = numericHost(resolved.host);
    {
        const std::lock_guard lock {m_stateMutex};
        m_resolved = resolved;
    }
    QString error;
    auto connection = RedisConnection::open(resolved, m_settings.timeouts, error);
    const auto fail = [this, &connection](const QString &why) {
        m_errors.fetch_add(1, std::memory_order_relaxed);
        const std::lock_guard lock {m_stateMutex};
        m_lastError = connection && connection->broken() ? connection->lastError() : why;
        return false;
    };
    if (!connection) {
        return fail(error);
    }
    // Redis's data generation: a random token set once per data set. A different (or a
    // newly created) token means Redis lost what it held since this gateway last saw it,
    // so this gateway's whole spend of the current windows goes back, not just the
    // outage's backlog.
    const QByteArray candidate = QByteArray::number(QRandomGenerator::global()->generate64(), 16);
    const ReplyPtr set = connection->command({QByteArrayLiteral("SET"), EPOCH_KEY, candidate, QByteArrayLiteral("NX")});
    const ReplyPtr get = connection->command({QByteArrayLiteral("GET"), EPOCH_KEY});
    if (!set || !get || get->type != REDIS_REPLY_STRING) {
        return fail(QStringLiteral("cannot read %1").arg(QString::fromLatin1(EPOCH_KEY)));
    }
    const QByteArray epoch {get->str, static_cast<qsizetype>(get->len)};
    const bool created = set->type == REDIS_REPLY_STATUS; // "OK"; nil when it existed
    const bool resync = created || (!m_epoch.isEmpty() && epoch != m_epoch);
    RedisTransition transition {true, m_settings.endpoint.display(), {}, 0, 0};
    if (resync) {
        {
            // The backlog's usage is in the local totals pushed below.
            const std::lock_guard lock {m_handoverMutex};
            m_backlog.clear();
        }
        const qint64 now = nowMs();
        for (const Governance::AccountSnapshot &account : m_local.snapshots(now)) {
            const Governance::AccountUsage &spent = account.usage;
            if (spent.dayTokens == 0 && spent.dayNanos == 0 && spent.monthTokens == 0 && spent.monthNanos == 0) {
                continue;
            }
            const QString none;
            const BacklogEntry usage {account.team ? none : account.name, account.team ? account.name : none, now, 0, 0, 0,
                                      spent.dayTokens, spent.dayNanos};
            if (!applyShared(*connection, nullptr, usage, spent.monthTokens, spent.monthNanos, nullptr)) {
                return fail(QStringLiteral("resync failed"));
            }
            ++transition.resyncedAccounts;
        }
    }
    m_epoch = epoch;
    // Drain the backlog until it is empty under the hand-over lock, then open the gate.
    while (true) {
        std::vector<BacklogEntry> batch;
        {
            const std::lock_guard lock {m_handoverMutex};
            if (m_backlog.size() == 0) {
                m_generation.fetch_add(1, std::memory_order_acq_rel);
                m_up.store(true, std::memory_order_release);
                break;
            }
            batch = m_backlog.take();
        }
        for (std::size_t i = 0; i < batch.size(); ++i) {
            const BacklogEntry &entry = batch[i];
            if (!applyShared(*connection, nullptr, entry, entry.tokens, entry.nanos, nullptr)) {
                // Whatever was not pushed goes back for the next attempt.
                for (std::size_t j = i; j < batch.size(); ++j) {
                    m_backlog.add(batch[j]);
                }
                return fail(QStringLiteral("backlog push failed"));
            }
            ++transition.pushedEntries;
        }
    }
    {
        const std::lock_guard lock {m_stateMutex};
        m_lastError.clear();
        m_changedAtMs = QDateTime::currentMSecsSinceEpoch();
    }
    if (m_onTransition) {
        m_onTransition(transition);
    }
    return true;
}

void RedisLimitStore::reconnectLoop()
{
    std::unique_lock lock {m_stateMutex};
    while (!m_stopping) {
        if (m_up.load(std::memory_order_acquire)) {
            m_wake.wait(lock, [this] { return m_stopping || !m_up.load(std::memory_order_acquire); });
            continue;
        }
        lock.unlock();
        const bool up = connectAndReconcile();
        lock.lock();
        if (!up && !m_stopping) {
            // The retry interval is the point: one connect attempt per interval, not a
            // timeout per request.
            m_wake.wait_for(lock, std::chrono::milliseconds {m_settings.retryIntervalMs}, [this] { return m_stopping; });
        } else if (up) {
            m_reconnects.fetch_add(1, std::memory_order_relaxed);
        }
    }
}

RedisStatus RedisLimitStore::status() const
{
    RedisStatus status;
    status.endpoint = m_settings.endpoint.display();
    status.up = isUp();
    status.sharedReservations = m_sharedReservations.load(std::memory_order_relaxed);
    status.fallbackReservations = m_fallbackReservations.load(std::memory_order_relaxed);
    status.errors = m_errors.load(std::memory_order_relaxed);
    status.reconnects = m_reconnects.load(std::memory_order_relaxed);
    status.backlogEntries = m_backlog.size();
    const std::lock_guard lock {m_stateMutex};
    status.lastError = m_lastError;
    status.changedAtMs = m_changedAtMs;
    return status;
}

} // namespace Gateway::Shared
