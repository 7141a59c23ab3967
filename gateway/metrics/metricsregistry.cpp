#include "metricsregistry.h"

#include "exposition.h"

namespace Gateway::Metrics {

namespace {

QByteArray armLabels(const ArmStats &stats)
{
    return "route=\"" + escapeLabelValue(stats.route) + "\",arm=\"" + escapeLabelValue(stats.arm) + '"';
}

void appendSample(QByteArray &out, const char *name, const QByteArray &labels, std::uint64_t value)
{
    out += name;
    if (!labels.isEmpty()) {
        out += '{' + labels + '}';
    }
    out += ' ' + QByteArray::number(value) + '\n';
}

} // namespace

RouteStats &MetricsRegistry::route(const QByteArray &name)
{
    const QMutexLocker lock {&m_mutex};
    auto &slot = m_routes[name];
    if (!slot) {
        slot = std::make_unique<RouteStats>();
        slot->route = name;
    }
    return *slot;
}

BackendStats &MetricsRegistry::backend(const QByteArray &name)
{
    const QMutexLocker lock {&m_mutex};
    auto &slot = m_backends[name];
    if (!slot) {
        slot = std::make_unique<BackendStats>();
        slot->backend = name;
    }
    return *slot;
}

ArmStats &MetricsRegistry::arm(const QByteArray &route, const QByteArray &arm)
{
    const QMutexLocker lock {&m_mutex};
    auto &slot = m_arms[{route, arm}];
    if (!slot) {
        slot = std::make_unique<ArmStats>();
        slot->route = route;
        slot->arm = arm;
    }
    return *slot;
}

Counter &MetricsRegistry::ruleMatches(const QByteArray &route, const QByteArray &rule)
{
    const QMutexLocker lock {&m_mutex};
    auto &slot = m_ruleMatches[{route, rule}];
    if (!slot) {
        slot = std::make_unique<Counter>(0);
    }
    return *slot;
}

PdStats &MetricsRegistry::prefillDecode(const QByteArray &route)
{
    const QMutexLocker lock {&m_mutex};
    auto &slot = m_prefillDecode[route];
    if (!slot) {
        slot = std::make_unique<PdStats>();
    }
    return *slot;
}

Counter &MetricsRegistry::prefillFailures(const QByteArray &route, const QByteArray &backend)
{
    const QMutexLocker lock {&m_mutex};
    auto &slot = m_prefillFailures[{route, backend}];
    if (!slot) {
        slot = std::make_unique<Counter>(0);
    }
    return *slot;
}

Counter &MetricsRegistry::firewallActions(const QByteArray &route, const QByteArray &rule, const QByteArray &action)
{
    const QMutexLocker lock {&m_mutex};
    auto &slot = m_firewallActions[{route, rule, action}];
    if (!slot) {
        slot = std::make_unique<Counter>(0);
    }
    return *slot;
}

void MetricsRegistry::appendFirewall(QByteArray &out) const
{
    appendMetricHeader(out, "switchyard_firewall_actions_total", "counter",
                 "Requests the prompt firewall of a route blocked or redacted, by the rule that matched.");
    for (const auto &[key, count] : m_firewallActions) {
        const auto &[route, rule, action] = key;
        appendSample(out, "switchyard_firewall_actions_total",
                     "route=\"" + escapeLabelValue(route) + "\",rule=\"" + escapeLabelValue(rule) + "\",action=\"" + escapeLabelValue(action) + '"',
                     count->load(std::memory_order_relaxed));
    }
}

void MetricsRegistry::appendPrefillDecode(QByteArray &out) const
{
    appendMetricHeader(out, "switchyard_pd_decisions_total", "counter",
                 "Requests of routes with a prefill pool, by decision: disaggregated (prefill on the prefill pool, then "
                 "decode) or aggregated (one server).");
    for (const auto &[route, stats] : m_prefillDecode) {
        appendSample(out, "switchyard_pd_decisions_total", "route=\"" + escapeLabelValue(route) + "\",decision=\"disaggregated\"",
                     stats->disaggregated.load(std::memory_order_relaxed));
        appendSample(out, "switchyard_pd_decisions_total", "route=\"" + escapeLabelValue(route) + "\",decision=\"aggregated\"",
                     stats->aggregated.load(std::memory_order_relaxed));
    }
    appendMetricHeader(out, "switchyard_pd_prefill_failures_total", "counter",
                 "Prefill steps that failed or returned no kv_transfer_params; the request then ran aggregated.");
    for (const auto &[key, count] : m_prefillFailures) {
        appendSample(out, "switchyard_pd_prefill_failures_total",
                     "route=\"" + escapeLabelValue(key.first) + "\",backend=\"" + escapeLabelValue(key.second) + '"',
                     count->load(std::memory_order_relaxed));
    }
}

void MetricsRegistry::appendArms(QByteArray &out) const
{
    appendMetricHeader(out, "switchyard_split_requests_total", "counter", "Requests per arm of a traffic split.");
    for (const auto &[key, stats] : m_arms) {
        appendSample(out, "switchyard_split_requests_total", armLabels(*stats), stats->requests.load(std::memory_order_relaxed));
    }
    appendMetricHeader(out, "switchyard_split_errors_total", "counter", "Requests answered with an error, per arm.");
    for (const auto &[key, stats] : m_arms) {
        appendSample(out, "switchyard_split_errors_total", armLabels(*stats), stats->errors.load(std::memory_order_relaxed));
    }
    appendMetricHeader(out, "switchyard_split_tokens_total", "counter", "Tokens per arm; direction is in or out.");
    for (const auto &[key, stats] : m_arms) {
        appendSample(out, "switchyard_split_tokens_total", armLabels(*stats) + ",direction=\"in\"",
                     stats->tokensIn.load(std::memory_order_relaxed));
        appendSample(out, "switchyard_split_tokens_total", armLabels(*stats) + ",direction=\"out\"",
                     stats->tokensOut.load(std::memory_order_relaxed));
    }
    appendMetricHeader(out, "switchyard_split_cost_micros_total", "counter",
                 "Cost per arm from the targets' prices, in millionths of the price currency.");
    for (const auto &[key, stats] : m_arms) {
        appendSample(out, "switchyard_split_cost_micros_total", armLabels(*stats), stats->costMicros.load(std::memory_order_relaxed));
    }
    appendMetricHeader(out, "switchyard_split_duration_seconds", "histogram", "Request duration per arm.");
    for (const auto &[key, stats] : m_arms) {
        stats->latency.appendPrometheus(out, "switchyard_split_duration_seconds", armLabels(*stats));
    }
    appendMetricHeader(out, "switchyard_split_time_to_first_token_seconds", "histogram", "Time to first token per arm.");
    for (const auto &[key, stats] : m_arms) {
        stats->ttft.appendPrometheus(out, "switchyard_split_time_to_first_token_seconds", armLabels(*stats));
    }
}

void MetricsRegistry::appendPrometheus(QByteArray &out) const
{
    const QMutexLocker lock {&m_mutex};

    appendMetricHeader(out, "switchyard_requests_total", "counter", "Client requests answered, per route.");
    for (const auto &[name, stats] : m_routes) {
        appendSample(out, "switchyard_requests_total", "route=\"" + escapeLabelValue(name) + '"',
                     stats->requests.load(std::memory_order_relaxed));
    }
    appendMetricHeader(out, "switchyard_request_errors_total", "counter",
                 "Client requests answered with an error, per route and error class.");
    for (int c = 0; c < ERROR_CLASS_COUNT; ++c) {
        const QByteArray errorClass = errorClassName(static_cast<ErrorClass>(c)).toByteArray();
        const std::uint64_t unrouted = m_unroutedErrors[c].load(std::memory_order_relaxed);
        if (unrouted > 0) {
            appendSample(out, "switchyard_request_errors_total", "route=\"\",class=\"" + errorClass + '"', unrouted);
        }
        for (const auto &[name, stats] : m_routes) {
            const std::uint64_t value = stats->errors[c].load(std::memory_order_relaxed);
            if (value > 0) {
                appendSample(out, "switchyard_request_errors_total",
                             "route=\"" + escapeLabelValue(name) + "\",class=\"" + errorClass + '"', value);
            }
        }
    }
    appendMetricHeader(out, "switchyard_fallbacks_total", "counter",
                 "Requests answered by a later attempt (another target or a fallback route).");
    for (const auto &[name, stats] : m_routes) {
        appendSample(out, "switchyard_fallbacks_total", "route=\"" + escapeLabelValue(name) + '"',
                     stats->fallbacks.load(std::memory_order_relaxed));
    }
    appendMetricHeader(out, "switchyard_hedges_total", "counter",
                 "Hedged requests per route; outcome is started (a backup was sent) or won (the backup answered).");
    for (const auto &[name, stats] : m_routes) {
        appendSample(out, "switchyard_hedges_total", "route=\"" + escapeLabelValue(name) + "\",outcome=\"started\"",
                     stats->hedges.load(std::memory_order_relaxed));
        appendSample(out, "switchyard_hedges_total", "route=\"" + escapeLabelValue(name) + "\",outcome=\"won\"",
                     stats->hedgeWins.load(std::memory_order_relaxed));
    }
    appendMetricHeader(out, "switchyard_session_moves_total", "counter",
                 "Requests of a session sent elsewhere than its own target (session_hash), by reason.");
    for (const auto &[name, stats] : m_routes) {
        appendSample(out, "switchyard_session_moves_total", "route=\"" + escapeLabelValue(name) + "\",reason=\"overloaded\"",
                     stats->sessionMovesOverloaded.load(std::memory_order_relaxed));
        appendSample(out, "switchyard_session_moves_total", "route=\"" + escapeLabelValue(name) + "\",reason=\"unavailable\"",
                     stats->sessionMovesUnavailable.load(std::memory_order_relaxed));
    }
    appendMetricHeader(out, "switchyard_residency_refusals_total", "counter",
                 "Requests refused (403 residency_violation) because no target of the route is in the regions they may use.");
    for (const auto &[name, stats] : m_routes) {
        appendSample(out, "switchyard_residency_refusals_total", "route=\"" + escapeLabelValue(name) + '"',
                     stats->residencyRefusals.load(std::memory_order_relaxed));
    }
    appendMetricHeader(out, "switchyard_tokens_total", "counter", "Tokens per route; direction is in (prompt) or out (completion).");
    for (const auto &[name, stats] : m_routes) {
        appendSample(out, "switchyard_tokens_total", "route=\"" + escapeLabelValue(name) + "\",direction=\"in\"",
                     stats->tokensIn.load(std::memory_order_relaxed));
        appendSample(out, "switchyard_tokens_total", "route=\"" + escapeLabelValue(name) + "\",direction=\"out\"",
                     stats->tokensOut.load(std::memory_order_relaxed));
    }
    appendMetricHeader(out, "switchyard_request_duration_seconds", "histogram",
                 "Time from a complete client request to the end of its response, per route.");
    for (const auto &[name, stats] : m_routes) {
        stats->latency.appendPrometheus(out, "switchyard_request_duration_seconds", "route=\"" + escapeLabelValue(name) + '"');
    }
    appendMetricHeader(out, "switchyard_time_to_first_token_seconds", "histogram",
                 "Time from a complete client request to the first response body byte, per route.");
    for (const auto &[name, stats] : m_routes) {
        stats->ttft.appendPrometheus(out, "switchyard_time_to_first_token_seconds", "route=\"" + escapeLabelValue(name) + '"');
    }

    appendMetricHeader(out, "switchyard_backend_attempts_total", "counter", "Upstream attempts, per backend.");
    for (const auto &[name, stats] : m_backends) {
        appendSample(out, "switchyard_backend_attempts_total", "backend=\"" + escapeLabelValue(name) + '"',
                     stats->attempts.load(std::memory_order_relaxed));
    }
    appendMetricHeader(out, "switchyard_backend_translated_attempts_total", "counter",
                 "Upstream attempts sent in the other API format than the client's (OpenAI <-> Anthropic), per backend.");
    for (const auto &[name, stats] : m_backends) {
        appendSample(out, "switchyard_backend_translated_attempts_total", "backend=\"" + escapeLabelValue(name) + '"',
                     stats->translatedAttempts.load(std::memory_order_relaxed));
    }
    appendMetricHeader(out, "switchyard_backend_errors_total", "counter", "Failed upstream attempts, per backend and class.");
    for (int c = 0; c < ERROR_CLASS_COUNT; ++c) {
        const QByteArray errorClass = errorClassName(static_cast<ErrorClass>(c)).toByteArray();
        for (const auto &[name, stats] : m_backends) {
            const std::uint64_t value = stats->errors[c].load(std::memory_order_relaxed);
            if (value > 0) {
                appendSample(out, "switchyard_backend_errors_total",
                             "backend=\"" + escapeLabelValue(name) + "\",class=\"" + errorClass + '"', value);
            }
        }
    }
    appendMetricHeader(out, "switchyard_backend_in_flight", "gauge", "Upstream attempts in progress, per backend.");
    for (const auto &[name, stats] : m_backends) {
        appendSample(out, "switchyard_backend_in_flight", "backend=\"" + escapeLabelValue(name) + '"',
                     static_cast<std::uint64_t>(std::max(0, stats->inFlight.load(std::memory_order_relaxed))));
    }
    appendMetricHeader(out, "switchyard_backend_tokens_total", "counter", "Tokens per backend; direction is in or out.");
    for (const auto &[name, stats] : m_backends) {
        appendSample(out, "switchyard_backend_tokens_total", "backend=\"" + escapeLabelValue(name) + "\",direction=\"in\"",
                     stats->tokensIn.load(std::memory_order_relaxed));
        appendSample(out, "switchyard_backend_tokens_total", "backend=\"" + escapeLabelValue(name) + "\",direction=\"out\"",
                     stats->tokensOut.load(std::memory_order_relaxed));
    }
    appendMetricHeader(out, "switchyard_backend_duration_seconds", "histogram", "Duration of upstream attempts, per backend.");
    for (const auto &[name, stats] : m_backends) {
        stats->latency.appendPrometheus(out, "switchyard_backend_duration_seconds", "backend=\"" + escapeLabelValue(name) + '"');
    }
    appendMetricHeader(out, "switchyard_backend_time_to_first_token_seconds", "histogram",
                 "Time from sending an attempt to its first response body byte, per backend.");
    for (const auto &[name, stats] : m_backends) {
        stats->ttft.appendPrometheus(out, "switchyard_backend_time_to_first_token_seconds",
                                     "backend=\"" + escapeLabelValue(name) + '"');
    }
    if (!m_arms.empty()) {
        appendArms(out);
    }
    if (!m_prefillDecode.empty()) {
        appendPrefillDecode(out);
    }
    if (!m_firewallActions.empty()) {
        appendFirewall(out);
    }
    if (!m_ruleMatches.empty()) {
        appendMetricHeader(out, "switchyard_rule_matches_total", "counter", "Requests a conditional routing rule matched.");
        for (const auto &[key, count] : m_ruleMatches) {
            appendSample(out, "switchyard_rule_matches_total",
                         "route=\"" + escapeLabelValue(key.first) + "\",rule=\"" + escapeLabelValue(key.second) + '"',
                         count->load(std::memory_order_relaxed));
        }
    }
}

} // namespace Gateway::Metrics
