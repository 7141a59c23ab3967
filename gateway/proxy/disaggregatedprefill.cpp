#include "disaggregatedprefill.h"

#include "kvtransferbody.h"
#include "routing/keypool.h"
#include "runtime/backendmonitor.h"
#include "runtime/routingregistry.h"
#include "runtime/snapshotsource.h"

#include <algorithm>

namespace Gateway::Proxy {

namespace {

// A one-token answer is small; anything much larger is not a prefill response.
constexpr qsizetype MAX_PREFILL_RESPONSE_BYTES = 1024 * 1024;

double millisecondsSince(std::chrono::steady_clock::time_point start)
{
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

const Runtime::ProviderRuntime &providerOf(const Runtime::RouteTable &table, const PlannedAttempt &attempt)
{
    return table.providers()[static_cast<std::size_t>(attempt.backend->providerIndex)];
}

} // namespace

DisaggregatedPrefill::DisaggregatedPrefill(const Runtime::RouteTable &table, PlannedAttempt attempt, int promptTokens,
                                           Completed completed)
    : m_table {table}
    , m_attempt {attempt}
    , m_promptTokens {promptTokens}
    , m_completed {std::move(completed)}
{
}

DisaggregatedPrefill::~DisaggregatedPrefill()
{
    if (m_transfer) {
        // The client left or the exchange ended: abandoned, says nothing about the server.
        m_transfer.reset();
        settle(false, false, {});
    } else if (m_admitted && !m_started) {
        // Admitted but never sent: give the probe slot and the key's reservation back.
        if (m_run.probe) {
            m_attempt.backend->monitor->health().cancelProbe();
        }
        const auto &provider = providerOf(m_table, m_attempt);
        if (provider.keys && m_run.key >= 0) {
            provider.keys->settle(m_run.key, tokenLoad().expected, 0, Runtime::monotonicNowMs());
            if (m_run.keyProbe) {
                provider.keys->health(m_run.key).cancelProbe();
            }
        }
    }
}

bool DisaggregatedPrefill::admit(Routing::Rng &rng, qint64 nowMs)
{
    const Routing::Admission admission = m_attempt.backend->monitor->health().admit(nowMs);
    if (admission == Routing::Admission::Rejected) {
        m_failure = "circuit open";
        return false;
    }
    m_run.probe = admission == Routing::Admission::Probe;
    const auto &provider = providerOf(m_table, m_attempt);
    if (provider.keys) {
        m_run.key = provider.keys->pick(nowMs, tokenLoad().expected, rng, &m_run.keyProbe);
        if (m_run.key < 0) {
            if (m_run.probe) {
                m_attempt.backend->monitor->health().cancelProbe();
                m_run.probe = false;
            }
            m_failure = "every key cooling down";
            return false;
        }
    }
    m_admitted = true;
    return true;
}

Runtime::BackendMonitor::TokenLoad DisaggregatedPrefill::tokenLoad() const
{
    // One output token; the prompt's uncached part is the work.
    const std::int64_t prompt = std::max(0, m_promptTokens);
    return {prompt + 1, std::max<std::int64_t>(0, prompt - m_attempt.cachedPromptTokens), 1};
}

void DisaggregatedPrefill::start(Upstream::CurlMulti &curl, Upstream::UpstreamRequest &&request)
{
    auto &stats = *m_attempt.backend->stats;
    m_started = true;
    stats.attempts.fetch_add(1, std::memory_order_relaxed);
    stats.inFlight.fetch_add(1, std::memory_order_relaxed);
    m_run.prefill = m_attempt.backend->monitor->started(tokenLoad(), Runtime::monotonicNowUs());
    m_run.inFlight = true;
    m_run.startedAt = std::chrono::steady_clock::now();
    m_transfer = curl.start(std::move(request), *this);
}

void DisaggregatedPrefill::onResponseHead(int status, const Http::HeaderList &)
{
    m_status = status;
}

bool DisaggregatedPrefill::onResponseData(QByteArrayView data)
{
    if (!m_run.sawBody) {
        m_run.sawBody = true;
        m_run.ttftMs = millisecondsSince(m_run.startedAt);
        m_attempt.backend->monitor->prefillDone(m_run.prefill, Runtime::monotonicNowUs());
    }
    if (m_body.size() + data.size() > MAX_PREFILL_RESPONSE_BYTES) {
        return false;
    }
    m_body.append(data.data(), data.size());
    return true;
}

void DisaggregatedPrefill::onComplete(const Upstream::TransferResult &result)
{
    m_transfer.reset();
    m_durationMs = millisecondsSince(m_run.startedAt);
    if (result.error != Upstream::TransferError::None) {
        m_failure = result.errorText.isEmpty() ? QByteArray("transfer error") : result.errorText;
        const auto error = result.error;
        countError(error == Upstream::TransferError::ConnectFailed ? Metrics::ErrorClass::UpstreamUnreachable
                   : error == Upstream::TransferError::ConnectTimeout || error == Upstream::TransferError::FirstByteTimeout ||
                           error == Upstream::TransferError::IdleTimeout
                       ? Metrics::ErrorClass::UpstreamTimeout
                       : Metrics::ErrorClass::UpstreamReset);
        settle(true, true, m_failure);
    } else if (m_status < 200 || m_status >= 300) {
        m_failure = QByteArray::number(m_status);
        countError(m_status == 429 ? Metrics::ErrorClass::RateLimited
                   : m_status < 500 ? Metrics::ErrorClass::UpstreamClientError
                                    : Metrics::ErrorClass::UpstreamError);
        // Like any attempt: client errors and 429s say nothing about the server's health.
        settle(true, m_status >= 500, m_failure);
    } else if (auto params = kvTransferParamsOf(m_body)) {
        m_params = std::move(params);
        settle(false, true, {});
    } else {
        // The server answered but kept no blocks for us (no KV connector configured?):
        // nothing to hand over, though the server itself is healthy.
        m_failure = "no kv_transfer_params";
        settle(false, true, {});
    }
    m_completed();
}

void DisaggregatedPrefill::countError(Metrics::ErrorClass errorClass)
{
    m_attempt.backend->stats->errors[static_cast<std::size_t>(errorClass)].fetch_add(1, std::memory_order_relaxed);
}

void DisaggregatedPrefill::settle(bool failed, bool countsAgainstBackend, QByteArrayView reason)
{
    if (!m_run.inFlight) {
        return;
    }
    m_run.inFlight = false;
    auto &stats = *m_attempt.backend->stats;
    stats.inFlight.fetch_sub(1, std::memory_order_relaxed);
    const double latencyMs = millisecondsSince(m_run.startedAt);
    stats.latency.observeMs(latencyMs);
    Runtime::AttemptOutcome outcome;
    outcome.failed = failed;
    outcome.countsAgainstBackend = countsAgainstBackend;
    outcome.reason = reason.toByteArray();
    outcome.latencyMs = latencyMs;
    outcome.ttftMs = m_run.ttftMs;
    outcome.outputTokens = failed ? -1 : 1;
    outcome.wasProbe = m_run.probe;
    const qint64 now = Runtime::monotonicNowMs();
    if (m_attempt.backend->monitor->finished(tokenLoad(), m_run.prefill, outcome, now)) {
        m_table.snapshots().markStale();
    }
    const auto &provider = providerOf(m_table, m_attempt);
    if (provider.keys && m_run.key >= 0) {
        provider.keys->settle(m_run.key, tokenLoad().expected, failed ? 0 : tokenLoad().expected, now);
        if (m_status == 401 || m_status == 403) {
            provider.keys->recordFailure(m_run.key, now, QByteArray("answered " + QByteArray::number(m_status)), m_run.keyProbe);
        } else if (m_status > 0 && m_status != 429 && countsAgainstBackend) {
            provider.keys->recordSuccess(m_run.key, now, m_run.keyProbe);
        } else if (m_run.keyProbe) {
            provider.keys->health(m_run.key).cancelProbe();
        }
    }
}

} // namespace Gateway::Proxy
