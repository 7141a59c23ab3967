#pragma once

// The policy document: the typed form of the YAML given to --config. The same schema is
// the contract for the admin API and import/export, so keys are only ever added.

#include <QByteArray>
#include <QString>
#include <QStringList>

#include "admission/priorityclass.h"
#include "admission/queuesettings.h"
#include "cache/cachesettings.h"
#include "governance/limits.h"
#include "routing/gpupresets.h"
#include "routing/prefilldecode.h"

#include <array>
#include <optional>
#include <utility>
#include <vector>

namespace Gateway::Config {

// Header name and value pairs sent upstream.
using HeaderList = std::vector<std::pair<QByteArray, QByteArray>>;

enum class ProviderType { OpenAi, Anthropic, AzureOpenAi, OpenAiCompatible, Vllm, Sglang, Tgi, LlamaCpp };

// The request/response format a provider speaks on the wire.
enum class WireFormat { OpenAi, Anthropic };

WireFormat wireFormatOf(ProviderType type);
QString providerTypeName(ProviderType type);
bool parseProviderType(const QString &name, ProviderType &out);

inline constexpr qint64 DEFAULT_MAX_BODY_BYTES = 32LL * 1024 * 1024;
inline constexpr quint16 DEFAULT_LISTEN_PORT = 8420;

struct Timeouts {
    int connectMs = 2000;
    int firstTokenMs = 30000;
    int idleMs = 60000;

    bool operator==(const Timeouts &) const = default;
};

struct ProviderKey {
    QString name;
    QByteArray secret; // never logged; redacted in every rendering
    int rpm = 0;       // 0 = unlimited
    int tpm = 0;

    bool operator==(const ProviderKey &) const = default;
};

// providers[].discovery: the provider's servers come from DNS rather than from the
// host of base_url (e.g. a Kubernetes headless service). base_url still gives the
// scheme, the path and, for `a`, the port; each discovered address:port replaces its
// host:port (docs/DISCOVERY.md).
struct Discovery {
    enum class Type { A, Srv };
    Type type = Type::A;
    QString name;              // srv: the SRV name queried; a: empty (the host of base_url)
    qint64 intervalMs = 5000;  // between resolutions
    qint64 slowStartMs = 30000; // a new server's ramp from a small share to a full one
    qint64 drainMs = 30000;     // how long a vanished server stays listed as draining
    QString nameserver;         // "host:port"; empty = the system resolver configuration

    bool operator==(const Discovery &) const = default;
};

struct Provider {
    QString name;
    ProviderType type = ProviderType::OpenAiCompatible;
    QByteArray baseUrl;    // e.g. https://api.openai.com/v1 (no trailing slash)
    QByteArray metricsUrl; // Prometheus endpoint of a GPU server, optional
    QByteArray apiVersion; // azure-openai only
    // Requests of the other API format are translated for this provider (an OpenAI
    // client on an Anthropic provider, or the reverse); false = own format only.
    bool translate = true;
    // Plain-text HTTP/2 (h2c, prior knowledge) to an http:// base_url: streams share a
    // few multiplexed connections instead of one connection each (docs/ARCHITECTURE.md).
    bool http2PriorKnowledge = false;
    std::vector<ProviderKey> keys;
    std::vector<std::pair<QByteArray, QByteArray>> headers; // extra headers sent upstream
    Timeouts timeouts;
    std::optional<Discovery> discovery; // unset = base_url's host is the one server

    bool operator==(const Provider &) const = default;
};

struct Target {
    QString provider;
    QByteArray model; // model name sent upstream
    double weight = 1.0;
    // Price table entry and limits, used by the cost strategy and the context filter.
    double inputCostPerMTok = 0.0; // per million prompt tokens; 0 = unknown
    double outputCostPerMTok = 0.0;
    qint64 contextWindow = 0; // tokens; 0 = unknown
    // Requests the server takes at once before the gateway queues the rest (admission
    // control); 0 = uncapped. A property of the server: every target naming the same
    // provider/model states the same cap, and a route caps all of its targets or none.
    int maxConcurrency = 0;
    // Prefill/decode disaggregation (`pool`): a prefill-pool target only runs the prefill
    // step of its route's requests; unpooled targets serve both steps.
    Routing::TargetPool pool = Routing::TargetPool::Both;
    // Where the server runs (data residency, e.g. "eu"); empty = no region, so the target
    // is outside every restricted region. A property of the server, like maxConcurrency.
    QString region {};

    bool operator==(const Target &) const = default;
};

// The strategies a route may name in `strategy:`.
const QStringList &strategyNames();

// Parameters of the route's strategy; each applies to the strategies named beside it.
struct StrategyOptions {
    QString loadMetric = QStringLiteral("tokens"); // least_request, p2c: tokens | requests
    double loadFactor = 1.25;                      // session_hash: load bound factor (>= 1)
    int maxLatencyMs = 0;                          // cost: 0 = no latency constraint
    int intervalMs = 2000;                         // adaptive: weight recomputation period
    double exploration = 0.05;                     // adaptive: probability of a uniform probe pick
    Routing::GpuPolicyParams gpu;                  // prefix_aware: preset and its parameters

    bool operator==(const StrategyOptions &) const = default;
};

// Failure classes a route may retry (by name in `retry.on`).
const QStringList &retryClassNames();

struct RetryPolicy {
    int attempts = 3; // total tries of one request, over targets and fallback routes
    QStringList on = {QStringLiteral("connect_error"), QStringLiteral("timeout"), QStringLiteral("rate_limited"),
                      QStringLiteral("server_error"), QStringLiteral("context_length")};
    // Routes tried first after a failure of one class (e.g. context_length -> a route of
    // long-context models), before the rest of the plan; in document order.
    std::vector<std::pair<QString, QStringList>> fallbacks;

    bool operator==(const RetryPolicy &) const = default;
};

// Hedging of non-streaming requests: a backup attempt on another target when the first
// is slower than the route's own latency percentile.
struct HedgePolicy {
    bool enabled = false;
    double percentile = 0.95; // of the route's recent request durations: the hedge delay
    int minDelayMs = 10;      // never hedge sooner than this (also the delay before data exists)
    double budget = 0.05;     // hedges running at once <= this share of active requests (at least 1)

    bool operator==(const HedgePolicy &) const = default;
};

// Conditions of a routing rule (`when:`). Every condition given must hold; unset ones
// (empty lists, -1, nullopt) are not conditions. At least one is required.
struct RuleConditions {
    QStringList virtualKeys;                                 // the client's key name is one of these
    std::vector<std::pair<QByteArray, QByteArray>> headers;  // lower-case name, exact value
    int minPromptTokens = -1;                                // estimated prompt tokens >=
    int maxPromptTokens = -1;                                // estimated prompt tokens <=
    std::optional<bool> hasImages;                           // an image content part is present (or not)
    std::optional<bool> hasTools;                            // tools / functions are present (or not)
    QString lastUserMessageMatches;                          // regular expression on the last user message
    QStringList lastUserMessageContains;                     // any of these, case-insensitive
    int minMaxTokens = -1;                                   // requested max_tokens >=
    int maxMaxTokens = -1;                                   // requested max_tokens <=

    bool isEmpty() const;
    bool operator==(const RuleConditions &) const = default;
};

// What a matching rule or a split arm does: exactly one of the two is set.
struct RouteAction {
    QByteArray route;    // send to this other route (its strategy, targets, fallbacks)
    QStringList targets; // or narrow this route to these "provider/model" targets

    bool operator==(const RouteAction &) const = default;
};

struct RouteRule {
    QString name; // optional; "#<1-based index>" in route reasons and metrics when empty
    RuleConditions when;
    RouteAction action;

    bool operator==(const RouteRule &) const = default;
};

// The sticky keys a traffic split may hash.
const QStringList &splitStickyNames();

struct SplitArm {
    QString name;
    double share = 0.0; // in (0, 1]; a split's shares sum to 1
    RouteAction action;

    bool operator==(const SplitArm &) const = default;
};

// A traffic split (A/B test, gradual roll-out), applied when no rule matched. No arms =
// no split.
struct SplitPolicy {
    QString sticky = QStringLiteral("session"); // session | user | virtual_key | none
    std::vector<SplitArm> arms;

    bool operator==(const SplitPolicy &) const = default;
};

// A named RE2 pattern: a `redaction.custom` entry, or a firewall rule. A firewall rule
// with an empty regex refers by name to a built-in pattern or a `redaction.custom` one.
struct NamedPattern {
    QString name {};
    QString regex {};

    bool operator==(const NamedPattern &) const = default;
};

// What a route's prompt firewall does when a rule matches the request's message text.
enum class FirewallAction { Block, Redact };

// routes[].firewall: no rules = no firewall.
struct FirewallPolicy {
    FirewallAction action = FirewallAction::Block;
    std::vector<NamedPattern> rules {};

    bool isEnabled() const { return !rules.empty(); }
    bool operator==(const FirewallPolicy &) const = default;
};

// The top-level `redaction:` section: patterns replaced by [REDACTED:<name>] in
// everything the gateway logs or stores (docs/SAFETY.md).
struct RedactionSettings {
    // Built-in patterns in force: api_keys, emails, card_numbers (all by default).
    QStringList builtins = {QStringLiteral("api_keys"), QStringLiteral("emails"), QStringLiteral("card_numbers")};
    std::vector<NamedPattern> custom {};

    bool operator==(const RedactionSettings &) const = default;
};

struct Route {
    QByteArray model; // the name clients send as "model"
    QString strategy = QStringLiteral("weighted");
    StrategyOptions options;
    RetryPolicy retry;
    HedgePolicy hedge;
    // After the first byte reached the client, continue a failed stream on another target
    // (the partial answer sent as an assistant prefix) instead of ending it with an error.
    bool streamResumption = false;
    std::vector<Target> targets;
    QStringList fallbacks; // names of other routes, tried in order
    // Evaluated in order before the strategy; the first match decides. A redirect is one
    // hop: the destination's own rules and split are not evaluated.
    std::vector<RouteRule> rules;
    SplitPolicy split;
    // `pd`: when a prefill step runs on the prefill pool (routes with prefill targets).
    Routing::PrefillDecodeSettings pd;
    // Data residency: the regions the route's requests may be served in (its own targets
    // and every fallback's); empty = unrestricted.
    QStringList regions {};
    // Prompt firewall: checks the request's message text before it is forwarded.
    FirewallPolicy firewall {};
    // Response caching (`cache`, docs/CACHE.md); off unless configured.
    Cache::RouteCacheSettings cache {};

    bool operator==(const Route &) const = default;
};

// Thresholds of the per-backend and per-key health state machine.
struct HealthPolicy {
    int windowMs = 10000;
    int minRequests = 10;
    double degradedErrorRate = 0.2;
    double failedErrorRate = 0.5;
    int consecutiveFailures = 5;
    int openMs = 5000;
    int maxOpenMs = 60000;
    int halfOpenProbes = 1;
    int halfOpenSuccesses = 3;
    int slowStartMs = 10000;
    double latencyOutlierFactor = 3.0;

    bool operator==(const HealthPolicy &) const = default;
};

struct RoutingSettings {
    double retryBudget = 0.2;    // retries in flight <= this share of active requests...
    int retryMinConcurrency = 3; // ...or this many, whichever is larger
    // Where a request's session key comes from, first match wins: header names, or
    // `user` (OpenAI body field) / `metadata.user_id` (Anthropic body field).
    QStringList sessionKeySources = {QStringLiteral("x-session-id"), QStringLiteral("x-conversation-id"),
                                     QStringLiteral("mcp-session-id"), QStringLiteral("user"),
                                     QStringLiteral("metadata.user_id")};
    HealthPolicy health;
    // How often each GPU server's `metrics_url` is scraped (queue depth, KV-cache usage,
    // prefix-cache hits); signals older than about three intervals count as stale.
    int metricsIntervalMs = 250;

    bool operator==(const RoutingSettings &) const = default;
};

// An MCP server the gateway proxies at /mcp/<name> (the top-level `mcp_servers:`,
// docs/MCP.md). Several URLs are replicas of one server: a session stays on the replica
// that opened it.
struct McpServer {
    QString name;
    std::vector<QByteArray> urls;
    // Sent upstream on every request (credentials of the MCP server); values are secrets:
    // "***" in redacted renderings, sealed in the store.
    std::vector<std::pair<QByteArray, QByteArray>> headers {};
    QStringList allowedTools {}; // tools clients may see and call; empty = every tool
    int timeoutMs = 60000;        // first byte and silence between bytes of a POST's answer
    int sessionTtlMs = 3600000;   // an idle session is forgotten after this long

    bool operator==(const McpServer &) const = default;
};

// Which MCP servers and tools a virtual key or team may use.
struct McpAccess {
    QStringList servers {}; // empty = every server
    // Per server: the tools allowed; a server not listed keeps every tool it allows.
    std::vector<std::pair<QString, QStringList>> tools {};

    bool isEmpty() const { return servers.isEmpty() && tools.empty(); }
    bool operator==(const McpAccess &) const = default;
};

struct VirtualKey {
    QString name;
    QByteArray key;       // plaintext, only when it came from a file or was just created
    QByteArray keySha256; // hex digest; how the store keeps keys (plaintext is never stored)
    QStringList routes;   // empty = every route
    // The admission class of the key's requests that send no x-priority header.
    Admission::PriorityClass priority = Admission::DEFAULT_PRIORITY_CLASS;
    // Governance (docs/CONFIG.md, "Teams, limits and budgets"): the key's team (empty =
    // none) and its own limits and budgets, all 0 = none.
    QString team {};
    Governance::RateLimits limits {};
    Governance::Budgets budgets {};
    // Data residency: the regions the key's requests may be served in; empty = any.
    QStringList regions {};
    // MCP servers and tools (mcp_servers, mcp_tools); within the team's.
    McpAccess mcp {};

    bool operator==(const VirtualKey &) const = default;
};

// A group of virtual keys with shared limits and budgets: a request must pass both its
// key's and its team's.
struct Team {
    QString name;
    QStringList routes; // routes the team's keys may use; empty = every route
    Governance::RateLimits limits;
    Governance::Budgets budgets;
    // Admission class of the team's keys that keep the default class; none = standard.
    std::optional<Admission::PriorityClass> priority;
    // Data residency for every key of the team (intersected with the key's own).
    QStringList regions {};
    // MCP servers and tools every key of the team is limited to.
    McpAccess mcp {};

    bool operator==(const Team &) const = default;
};

// One row of the price table ($ per million tokens). Entries of the policy's `prices:`
// override the shipped defaults (resources/prices/) model by model; a target's own
// input/output_cost_per_mtok override both.
struct ModelPrice {
    QByteArray model;
    double inputPerMTok = 0;
    double outputPerMTok = 0;
    double cachedInputPerMTok = -1; // < 0 = cached prompt tokens cost as input

    bool operator==(const ModelPrice &) const = default;
};

struct GovernanceSettings {
    // How long spend may wait in memory before the journal commits it: what a crash can
    // lose at most. Read at start-up.
    int journalFlushMs = 1000;
    // Output tokens assumed for a request without max_tokens before a route has learned
    // its average.
    int defaultOutputTokens = 256;

    bool operator==(const GovernanceSettings &) const = default;
};

struct GatewaySettings {
    QString listenHost = QStringLiteral("127.0.0.1");
    quint16 listenPort = DEFAULT_LISTEN_PORT;
    int threads = 0; // 0 = number of cores
    QByteArray adminToken;
    qint64 maxBodyBytes = DEFAULT_MAX_BODY_BYTES;
    int headerTimeoutMs = 10000; // whole request head must arrive within this
    int bodyTimeoutMs = 60000;   // whole request body must arrive within this
    int idleTimeoutMs = 60000;   // keep-alive connection with no request
    int maxConnections = 10000;  // per process
    int drainTimeoutMs = 10000;  // SIGTERM: in-flight requests get this long
    // The admin API answers peers other than loopback only when this is set.
    bool adminAllowRemote = false;
    // PEM files; both set = the listener speaks TLS only (docs/SECURITY.md).
    QString tlsCertFile;
    QString tlsKeyFile;

    bool operator==(const GatewaySettings &) const = default;
};

// The request log (one row per request, in SQLite, written off the hot path).
struct RequestLogSettings {
    bool enabled = true;
    int retentionDays = 30;    // rows older than this are deleted; 0 = keep by age
    qint64 maxRows = 1000000;  // oldest rows beyond this are deleted; 0 = no limit

    bool operator==(const RequestLogSettings &) const = default;
};

// What one priority class is promised (admission.classes.<class>); the meaning of each
// field is documented on Admission::ClassSettings, whose defaults these start from.
struct AdmissionClass {
    AdmissionClass() = default;
    explicit AdmissionClass(const Admission::ClassSettings &settings)
        : ttftObjectiveMs {settings.ttftObjectiveMs}, maxQueueWaitMs {settings.maxQueueWaitMs}, weight {settings.weight} {}

    qint64 ttftObjectiveMs = 0;
    qint64 maxQueueWaitMs = 0;
    double weight = 1.0;

    bool operator==(const AdmissionClass &) const = default;
};

// Admission control of capped target groups (the top-level `admission:` section).
struct AdmissionPolicy {
    int maxQueued = Admission::QueueSettings::DEFAULT_MAX_QUEUED; // waiting requests per queue, all classes
    // By Admission::classIndex(): interactive, standard, batch.
    std::array<AdmissionClass, Admission::PRIORITY_CLASS_COUNT> classes {
        AdmissionClass {Admission::defaultClassSettings(Admission::PriorityClass::Interactive)},
        AdmissionClass {Admission::defaultClassSettings(Admission::PriorityClass::Standard)},
        AdmissionClass {Admission::defaultClassSettings(Admission::PriorityClass::Batch)}};

    bool operator==(const AdmissionPolicy &) const = default;
};

// Distributed tracing (the top-level `tracing:` section; docs/TRACING.md). Absent =
// tracing off: the data plane then only checks that it is absent.
struct TracingSettings {
    QByteArray otlpEndpoint;      // OTLP/HTTP traces URL, e.g. http://127.0.0.1:4318/v1/traces
    QByteArray serviceName = "switchyard";
    double sampleRatio = 1.0;     // of new traces; a caller's traceparent decides for its own
    int exportIntervalMs = 1000;  // how long finished spans may wait before a batch is sent
    int maxQueueSpans = 8192;     // spans waiting for export; beyond it new ones are dropped
    // Sent with every export (collector auth): secrets, redacted like provider keys.
    std::vector<std::pair<QByteArray, QByteArray>> headers;

    bool operator==(const TracingSettings &) const = default;
};

struct Policy {
    GatewaySettings gateway;
    RequestLogSettings requestLog;
    RoutingSettings routing;
    AdmissionPolicy admission;
    GovernanceSettings governance;
    RedactionSettings redaction {};
    std::optional<TracingSettings> tracing; // nullopt = no `tracing:` section
    std::vector<ModelPrice> prices;
    std::vector<Provider> providers;
    std::vector<Route> routes;
    std::vector<Team> teams;
    std::vector<VirtualKey> virtualKeys;
    std::vector<McpServer> mcpServers {};

    const Provider *findProvider(const QString &name) const;
    const Team *findTeam(const QString &name) const;
    const Route *findRoute(const QByteArray &model) const;
    const McpServer *findMcpServer(const QString &name) const;
    // Every list of header values that are credentials (the tracing collector's, each
    // MCP server's): what the store seals and digests like provider keys.
    std::vector<HeaderList *> secretHeaderLists();

    bool operator==(const Policy &) const = default;
};

} // namespace Gateway::Config
