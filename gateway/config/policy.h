#pragma once

// The policy document: the typed form of the YAML given to --config. The same schema is
// the contract for the admin API and import/export, so keys are only ever added.

#include <QByteArray>
#include <QString>
#include <QStringList>

#include <utility>
#include <vector>

namespace Gateway::Config {

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

struct Provider {
    QString name;
    ProviderType type = ProviderType::OpenAiCompatible;
    QByteArray baseUrl;    // e.g. https://api.openai.com/v1 (no trailing slash)
    QByteArray metricsUrl; // Prometheus endpoint of a GPU server, optional
    QByteArray apiVersion; // azure-openai only
    std::vector<ProviderKey> keys;
    std::vector<std::pair<QByteArray, QByteArray>> headers; // extra headers sent upstream
    Timeouts timeouts;

    bool operator==(const Provider &) const = default;
};

struct Target {
    QString provider;
    QByteArray model; // model name sent upstream
    double weight = 1.0;

    bool operator==(const Target &) const = default;
};

struct Route {
    QByteArray model; // the name clients send as "model"
    QString strategy = QStringLiteral("weighted");
    std::vector<Target> targets;
    QStringList fallbacks; // names of other routes, tried in order

    bool operator==(const Route &) const = default;
};

struct VirtualKey {
    QString name;
    QByteArray key;       // plaintext, only when it came from a file or was just created
    QByteArray keySha256; // hex digest; how the store keeps keys (plaintext is never stored)
    QStringList routes;   // empty = every route

    bool operator==(const VirtualKey &) const = default;
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

    bool operator==(const GatewaySettings &) const = default;
};

// The request log (one row per request, in SQLite, written off the hot path).
struct RequestLogSettings {
    bool enabled = true;
    int retentionDays = 30;    // rows older than this are deleted; 0 = keep by age
    qint64 maxRows = 1000000;  // oldest rows beyond this are deleted; 0 = no limit

    bool operator==(const RequestLogSettings &) const = default;
};

struct Policy {
    GatewaySettings gateway;
    RequestLogSettings requestLog;
    std::vector<Provider> providers;
    std::vector<Route> routes;
    std::vector<VirtualKey> virtualKeys;

    const Provider *findProvider(const QString &name) const;
    const Route *findRoute(const QByteArray &model) const;

    bool operator==(const Policy &) const = default;
};

} // namespace Gateway::Config
