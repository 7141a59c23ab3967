#include "litellmimport.h"

#include "policyloader.h"
#include "policywriter.h"

#include <QLocale>
#include <QRegularExpression>
#include <QSet>
#include <QUrl>

#include "yamlerror.h"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <optional>

namespace Gateway::Config {

namespace {

// LiteLLM's own defaults when a deployment names no key or endpoint: its clients read
// these variables, so the converted policy reads the same ones.
constexpr char OPENAI_KEY_VARIABLE[] = "OPENAI_API_KEY";
constexpr char ANTHROPIC_KEY_VARIABLE[] = "ANTHROPIC_API_KEY";
constexpr char AZURE_KEY_VARIABLE[] = "AZURE_API_KEY";
constexpr char AZURE_BASE_VARIABLE[] = "AZURE_API_BASE";
constexpr char DEFAULT_AZURE_API_VERSION[] = "2024-10-21";
constexpr char OPENAI_BASE_URL[] = "https://api.openai.com/v1";
constexpr char ANTHROPIC_BASE_URL[] = "https://api.anthropic.com/v1";
constexpr char KEY_NAME[] = "key-1";
constexpr int MAX_TIMEOUT_MS = 3600000; // the loader's bound for every *_ms value

const QString NOT_SUPPORTED = QStringLiteral("not supported by Switchyard");

// Structural problems unwind with this; it never escapes importLiteLlmConfig().
struct ImportFailure {
    ConfigError error;
};

// Where a per-provider value came from, so a conflicting deployment can say which one won.
struct Origin {
    bool set = false;
    QString path;
};

struct ProviderSlot {
    ProviderType type;
    QByteArray baseUrl;
    QByteArray apiKey; // as written in the policy: literal or ${VAR}; empty = no key
    std::size_t index = 0;
    Origin apiVersion;
    Origin rpm;
    Origin tpm;
    Origin firstToken;
    Origin idle;
};

QString join(const QString &parent, const QString &key)
{
    return parent.isEmpty() ? key : parent + u'.' + key;
}

QString indexed(const QString &field, std::size_t index)
{
    return field + u'[' + QString::number(index) + u']';
}

QString formatNumber(double value)
{
    return QString::number(value, 'g', QLocale::FloatingPointShortest);
}

// "os.environ/VAR" is LiteLLM's way to read a variable; ${VAR} is ours, so a secret
// never has to be copied into the policy.
QByteArray fromLiteLlmValue(const QString &value)
{
    static const QString prefix = QStringLiteral("os.environ/");
    if (value.startsWith(prefix)) {
        return "${" + value.mid(prefix.size()).toUtf8() + '}';
    }
    return value.toUtf8();
}

bool isReference(const QByteArray &value)
{
    return value.startsWith("${");
}

QByteArray reference(const char *variable)
{
    return "${" + QByteArray {variable} + '}';
}

bool isHttpUrl(const QString &text)
{
    const QUrl url {text, QUrl::StrictMode};
    return url.isValid() && (url.scheme() == u"http" || url.scheme() == u"https") && !url.host().isEmpty();
}

QByteArray withoutTrailingSlash(QByteArray url)
{
    while (url.endsWith('/')) {
        url.chop(1);
    }
    return url;
}

class Importer {
public:
    explicit Importer(QString source)
        : m_source {std::move(source)}
    {
    }

    LiteLlmImport run(const YAML::Node &root)
    {
        if (!root || root.IsNull()) {
            return m_result;
        }
        requireMap(root, QString());
        for (const auto &entry : root) {
            const QString key = keyOf(entry.first);
            if (key == u"model_list") {
                readModelList(entry.second);
            } else if (key == u"router_settings" || key == u"litellm_settings" || key == u"general_settings") {
                requireMap(entry.second, key);
            } else if (key == u"environment_variables") {
                unmapped(key, QStringLiteral("set these in Switchyard's environment; ${VAR} in the policy reads them"));
            } else {
                unmapped(key, QStringLiteral("unknown LiteLLM setting, not imported"));
            }
        }
        // Settings refer to routes, so they are read once every route exists.
        if (root["router_settings"]) {
            readRouterSettings(root["router_settings"]);
        }
        if (root["litellm_settings"]) {
            readLiteLlmSettings(root["litellm_settings"]);
        }
        if (root["general_settings"]) {
            readGeneralSettings(root["general_settings"]);
        }
        return m_result;
    }

private:
    [[noreturn]] void fail(const YAML::Node &node, const QString &field, const QString &message) const
    {
        throw ImportFailure {errorAt(node, m_source, field, message)};
    }

    void requireMap(const YAML::Node &node, const QString &field) const
    {
        if (!node.IsMap()) {
            fail(node, field, QStringLiteral("expected a mapping"));
        }
    }

    QString keyOf(const YAML::Node &node) const
    {
        if (!node.IsScalar()) {
            fail(node, QString(), QStringLiteral("expected a string key"));
        }
        return QString::fromStdString(node.Scalar());
    }

    QString scalar(const YAML::Node &node, const QString &field) const
    {
        if (!node.IsScalar()) {
            fail(node, field, QStringLiteral("expected a string"));
        }
        return QString::fromStdString(node.Scalar());
    }

    void unmapped(const QString &path, const QString &reason) { m_result.unmapped << path + QStringLiteral(": ") + reason; }

    void mapped(const QString &line) { m_result.mapped << line; }

    // A number in [min, max], or nullopt after reporting why the value was not imported.
    std::optional<double> number(const YAML::Node &node, const QString &field, double min, double max)
    {
        bool ok = false;
        const double value = node.IsScalar() ? QString::fromStdString(node.Scalar()).toDouble(&ok) : 0.0;
        if (!ok || !std::isfinite(value)) {
            unmapped(field, QStringLiteral("expected a number"));
            return std::nullopt;
        }
        if (value < min || value > max) {
            unmapped(field, QStringLiteral("%1 is out of range (%2 to %3)")
                                .arg(formatNumber(value), formatNumber(min), formatNumber(max)));
            return std::nullopt;
        }
        return value;
    }

    void readModelList(const YAML::Node &list)
    {
        const QString field = QStringLiteral("model_list");
        if (!list.IsSequence()) {
            fail(list, field, QStringLiteral("expected a list"));
        }
        for (std::size_t i = 0; i < list.size(); ++i) {
            readDeployment(list[i], indexed(field, i));
        }
    }

    struct Upstream {
        ProviderType type = ProviderType::OpenAi;
        QByteArray model;
    };

    // LiteLLM's "<provider>/<model>"; nullopt (reported) for providers Switchyard lacks.
    std::optional<Upstream> upstreamOf(const QString &model, bool hasCustomBase, const QByteArray &baseUrl,
                                       const QString &field)
    {
        const qsizetype slash = model.indexOf(u'/');
        const QString prefix = slash < 0 ? QString() : model.left(slash);
        const QByteArray name = (slash < 0 ? model : model.mid(slash + 1)).toUtf8();
        Upstream upstream;
        upstream.model = name;
        if (prefix.isEmpty() || prefix == u"openai") {
            // A bare name is one LiteLLM knows by itself: Claude models or OpenAI's.
            if (prefix.isEmpty() && model.startsWith(QLatin1String("claude"))) {
                upstream.type = ProviderType::Anthropic;
            } else if (hasCustomBase && QUrl {QString::fromUtf8(baseUrl)}.host() != u"api.openai.com") {
                upstream.type = ProviderType::OpenAiCompatible;
            } else {
                upstream.type = ProviderType::OpenAi;
            }
        } else if (prefix == u"azure") {
            upstream.type = ProviderType::AzureOpenAi;
        } else if (prefix == u"anthropic") {
            upstream.type = ProviderType::Anthropic;
        } else if (prefix == u"hosted_vllm") {
            upstream.type = ProviderType::Vllm;
        } else {
            unmapped(field, QStringLiteral("provider '%1' (model '%2') is not supported (supported: openai, azure, "
                                           "anthropic, hosted_vllm, openai with api_base); deployment skipped")
                                .arg(prefix, model));
            return std::nullopt;
        }
        if (name.isEmpty()) {
            unmapped(field, QStringLiteral("model '%1' names no model; deployment skipped").arg(model));
            return std::nullopt;
        }
        return upstream;
    }

    void readDeployment(const YAML::Node &node, const QString &field)
    {
        requireMap(node, field);
        for (const auto &entry : node) {
            const QString key = keyOf(entry.first);
            if (key == u"model_info") {
                unmapped(join(field, key), QStringLiteral("model metadata (costs, context window, mode) is not used"));
            } else if (key != u"model_name" && key != u"litellm_params") {
                unmapped(join(field, key), QStringLiteral("unknown key, not imported"));
            }
        }
        if (!node["model_name"]) {
            fail(node, join(field, QStringLiteral("model_name")), QStringLiteral("required field is missing"));
        }
        const QString routeName = scalar(node["model_name"], join(field, QStringLiteral("model_name")));
        if (routeName.isEmpty()) {
            fail(node["model_name"], join(field, QStringLiteral("model_name")), QStringLiteral("must not be empty"));
        }
        const QString paramsField = join(field, QStringLiteral("litellm_params"));
        const YAML::Node params = node["litellm_params"];
        if (!params) {
            fail(node, paramsField, QStringLiteral("required field is missing"));
        }
        requireMap(params, paramsField);
        const auto param = [&](const char *key) { return join(paramsField, QLatin1String(key)); };
        if (!params["model"]) {
            fail(params, param("model"), QStringLiteral("required field is missing"));
        }
        const QString model = scalar(params["model"], param("model"));
        static const QSet<QString> known {
            QStringLiteral("model"),         QStringLiteral("api_base"), QStringLiteral("api_key"),
            QStringLiteral("api_version"),   QStringLiteral("rpm"),      QStringLiteral("tpm"),
            QStringLiteral("weight"),        QStringLiteral("timeout"),  QStringLiteral("stream_timeout"),
        };
        for (const auto &entry : params) {
            const QString key = keyOf(entry.first);
            if (!known.contains(key)) {
                unmapped(join(paramsField, key), QStringLiteral("LiteLLM parameter %1").arg(NOT_SUPPORTED));
            }
        }
        if (routeName.contains(u'*')) {
            unmapped(field, QStringLiteral("wildcard model_name '%1' is not supported; routes name exact models; "
                                           "deployment skipped")
                                .arg(routeName));
            return;
        }

        const bool hasBase = static_cast<bool>(params["api_base"]);
        QByteArray baseUrl = hasBase ? fromLiteLlmValue(scalar(params["api_base"], param("api_base"))) : QByteArray();
        const auto upstream = upstreamOf(model, hasBase, baseUrl, join(field, QStringLiteral("litellm_params.model")));
        if (!upstream) {
            return;
        }
        if (!hasBase) {
            switch (upstream->type) {
            case ProviderType::OpenAi: baseUrl = OPENAI_BASE_URL; break;
            case ProviderType::Anthropic: baseUrl = ANTHROPIC_BASE_URL; break;
            case ProviderType::AzureOpenAi: baseUrl = reference(AZURE_BASE_VARIABLE); break;
            default:
                unmapped(field, QStringLiteral("%1 needs api_base; deployment skipped").arg(model));
                return;
            }
        } else if (!isReference(baseUrl) && !isHttpUrl(QString::fromUtf8(baseUrl))) {
            unmapped(param("api_base"), QStringLiteral("'%1' is not an http:// or https:// URL; deployment skipped")
                                            .arg(QString::fromUtf8(baseUrl)));
            return;
        }
        baseUrl = withoutTrailingSlash(baseUrl);

        QByteArray apiKey;
        bool defaultKey = false;
        if (params["api_key"]) {
            apiKey = fromLiteLlmValue(scalar(params["api_key"], param("api_key")));
        } else if (upstream->type == ProviderType::OpenAi) {
            apiKey = reference(OPENAI_KEY_VARIABLE);
            defaultKey = true;
        } else if (upstream->type == ProviderType::Anthropic) {
            apiKey = reference(ANTHROPIC_KEY_VARIABLE);
            defaultKey = true;
        } else if (upstream->type == ProviderType::AzureOpenAi) {
            apiKey = reference(AZURE_KEY_VARIABLE);
            defaultKey = true;
        }

        ProviderSlot &slot = providerFor(upstream->type, baseUrl, apiKey, defaultKey, field);
        Provider &provider = m_result.policy.providers[slot.index];

        if (upstream->type == ProviderType::AzureOpenAi) {
            const QByteArray version = params["api_version"]
                ? fromLiteLlmValue(scalar(params["api_version"], param("api_version")))
                : QByteArray {DEFAULT_AZURE_API_VERSION};
            const QString versionPath = params["api_version"] ? param("api_version") : field;
            if (!slot.apiVersion.set) {
                provider.apiVersion = version;
                slot.apiVersion = {true, versionPath};
                const QString given = params["api_version"] ? QString::fromUtf8(version) : QStringLiteral("(none)");
                mapped(QStringLiteral("%1 %2 -> provider %3 api_version %4")
                           .arg(params["api_version"] ? versionPath : field + QStringLiteral(".litellm_params.api_version"),
                                given, provider.name, QString::fromUtf8(version)));
            } else if (provider.apiVersion != version) {
                unmapped(versionPath, QStringLiteral("provider %1 already uses api_version %2 (from %3); one "
                                                     "api_version per provider")
                                          .arg(provider.name, QString::fromUtf8(provider.apiVersion), slot.apiVersion.path));
            }
        } else if (params["api_version"]) {
            unmapped(param("api_version"), QStringLiteral("only Azure deployments use api_version"));
        }

        Target target;
        target.provider = provider.name;
        target.model = upstream->model;
        if (params["weight"]) {
            const auto weight = number(params["weight"], param("weight"), 0, 1e9);
            if (weight && *weight <= 0) {
                unmapped(param("weight"), QStringLiteral("must be greater than 0; weight 1 used"));
            } else if (weight) {
                target.weight = *weight;
            }
        }
        Route &route = routeFor(routeName.toUtf8());
        route.targets.push_back(target);
        mapped(QStringLiteral("%1 %2 -> route %2 target %3/%4 weight %5")
                   .arg(field, routeName, provider.name, QString::fromUtf8(target.model), formatNumber(target.weight)));

        readLimit(params, "rpm", field, slot, slot.rpm, 100000000);
        readLimit(params, "tpm", field, slot, slot.tpm, 2000000000);
        readTimeout(params, "timeout", "first_token_ms", field, slot, slot.firstToken);
        readTimeout(params, "stream_timeout", "idle_ms", field, slot, slot.idle);
    }

    ProviderSlot &providerFor(ProviderType type, const QByteArray &baseUrl, const QByteArray &apiKey, bool defaultKey,
                              const QString &field)
    {
        for (auto &slot : m_slots) {
            if (slot.type == type && slot.baseUrl == baseUrl && slot.apiKey == apiKey) {
                return slot;
            }
        }
        Provider provider;
        provider.name = providerName(type, baseUrl);
        provider.type = type;
        provider.baseUrl = baseUrl;
        QString keyText = QStringLiteral("no key");
        if (!apiKey.isEmpty()) {
            provider.keys.push_back(ProviderKey {QString::fromLatin1(KEY_NAME), apiKey, 0, 0});
            if (defaultKey) {
                keyText = QStringLiteral("key %1 (LiteLLM's default variable)").arg(QString::fromUtf8(apiKey));
            } else if (isReference(apiKey)) {
                keyText = QStringLiteral("key %1").arg(QString::fromUtf8(apiKey));
            } else {
                // Never echo a literal secret into a report.
                keyText = QStringLiteral("key copied from a literal api_key");
            }
        }
        mapped(QStringLiteral("%1 -> provider %2: type %3, base_url %4, %5")
                   .arg(field, provider.name, providerTypeName(type), QString::fromUtf8(baseUrl), keyText));
        ProviderSlot slot {type, baseUrl, apiKey, m_result.policy.providers.size(), {}, {}, {}, {}, {}};
        m_result.policy.providers.push_back(std::move(provider));
        m_slots.push_back(slot);
        return m_slots.back();
    }

    // Readable and stable: the same config always yields the same names, in order of
    // first appearance. Cloud providers are named after the service (and Azure resource);
    // self-hosted servers are numbered.
    QString providerName(ProviderType type, const QByteArray &baseUrl)
    {
        QString base;
        bool numbered = false;
        switch (type) {
        case ProviderType::OpenAi: base = QStringLiteral("openai"); break;
        case ProviderType::Anthropic: base = QStringLiteral("anthropic"); break;
        case ProviderType::AzureOpenAi: {
            base = QStringLiteral("azure");
            const QString host = QUrl {QString::fromUtf8(baseUrl)}.host();
            QString resource = host.section(u'.', 0, 0).toLower();
            static const QRegularExpression invalid {QStringLiteral("[^a-z0-9-]+")};
            resource.replace(invalid, QStringLiteral("-"));
            if (!isReference(baseUrl) && !resource.isEmpty()) {
                base += u'-' + resource;
            }
            break;
        }
        case ProviderType::Vllm:
            base = QStringLiteral("vllm");
            numbered = true;
            break;
        default:
            base = QStringLiteral("openai-compatible");
            numbered = true;
            break;
        }
        const auto taken = [this](const QString &name) { return m_result.policy.findProvider(name) != nullptr; };
        if (numbered) {
            for (int n = 1;; ++n) {
                const QString name = base + u'-' + QString::number(n);
                if (!taken(name)) {
                    return name;
                }
            }
        }
        if (!taken(base)) {
            return base;
        }
        for (int n = 2;; ++n) {
            const QString name = base + u'-' + QString::number(n);
            if (!taken(name)) {
                return name;
            }
        }
    }

    Route &routeFor(const QByteArray &model)
    {
        for (auto &route : m_result.policy.routes) {
            if (route.model == model) {
                return route;
            }
        }
        Route route;
        route.model = model;
        m_result.policy.routes.push_back(std::move(route));
        return m_result.policy.routes.back();
    }

    // LiteLLM limits a deployment; Switchyard limits a provider key, shared by every
    // model on it. The first deployment's value is kept and a differing one reported.
    void readLimit(const YAML::Node &params, const char *key, const QString &field, ProviderSlot &slot, Origin &origin,
                   double max)
    {
        if (!params[key]) {
            return;
        }
        const QString path = field + QStringLiteral(".litellm_params.") + QLatin1String(key);
        Provider &provider = m_result.policy.providers[slot.index];
        if (provider.keys.empty()) {
            unmapped(path, QStringLiteral("limits apply to a provider key and provider %1 has none").arg(provider.name));
            return;
        }
        const auto value = number(params[key], path, 0, max);
        if (!value) {
            return;
        }
        const int limit = static_cast<int>(std::llround(*value));
        int &current = QLatin1String(key) == QLatin1String("rpm") ? provider.keys.front().rpm : provider.keys.front().tpm;
        if (origin.set && current != limit) {
            unmapped(path, QStringLiteral("provider %1 key %2 already has %3 %4 (from %5); limits are per key, not per "
                                          "deployment")
                               .arg(provider.name, provider.keys.front().name, QLatin1String(key))
                               .arg(current)
                               .arg(origin.path));
            return;
        }
        current = limit;
        if (!origin.set) {
            origin = {true, field};
        }
        mapped(QStringLiteral("%1 %2 -> provider %3 key %4 %5 %2")
                   .arg(path, QString::number(limit), provider.name, provider.keys.front().name, QLatin1String(key)));
    }

    // LiteLLM timeouts are seconds per request; Switchyard's are milliseconds per provider.
    void readTimeout(const YAML::Node &params, const char *key, const char *target, const QString &field,
                     ProviderSlot &slot, Origin &origin)
    {
        if (!params[key]) {
            return;
        }
        const QString path = field + QStringLiteral(".litellm_params.") + QLatin1String(key);
        const auto seconds = number(params[key], path, 0.001, MAX_TIMEOUT_MS / 1000.0);
        if (!seconds) {
            return;
        }
        Provider &provider = m_result.policy.providers[slot.index];
        const int ms = static_cast<int>(std::llround(*seconds * 1000));
        int &current = QLatin1String(target) == QLatin1String("idle_ms") ? provider.timeouts.idleMs
                                                                          : provider.timeouts.firstTokenMs;
        if (origin.set && current != ms) {
            unmapped(path, QStringLiteral("provider %1 already has timeouts.%2 %3 (from %4); timeouts are per provider")
                               .arg(provider.name, QLatin1String(target))
                               .arg(current)
                               .arg(origin.path));
            return;
        }
        current = ms;
        if (!origin.set) {
            origin = {true, field};
        }
        mapped(QStringLiteral("%1 %2 -> provider %3 timeouts.%4 %5")
                   .arg(path, formatNumber(*seconds), provider.name, QLatin1String(target))
                   .arg(ms));
    }

    void readRouterSettings(const YAML::Node &settings)
    {
        const QString field = QStringLiteral("router_settings");
        for (const auto &entry : settings) {
            const QString key = keyOf(entry.first);
            const QString path = join(field, key);
            if (key == u"routing_strategy") {
                const QString strategy = scalar(entry.second, path);
                if (strategy == u"simple-shuffle") {
                    // Every route already uses weighted: LiteLLM's simple-shuffle picks by weight.
                    mapped(QStringLiteral("%1 simple-shuffle -> every route strategy weighted").arg(path));
                } else {
                    unmapped(path, QStringLiteral("'%1' is not supported; routes use weighted (random by weight, "
                                                  "then the other targets in order)")
                                       .arg(strategy));
                }
            } else if (key == u"fallbacks") {
                readFallbacks(entry.second, path);
            } else if (key == u"num_retries") {
                unmapped(path, QStringLiteral("retries are not configurable; a failed target is retried on the "
                                              "route's next target, then its fallbacks"));
            } else if (key == u"timeout") {
                unmapped(path, QStringLiteral("no global request timeout; set timeouts per provider"));
            } else if (key == u"allowed_fails" || key == u"cooldown_time") {
                unmapped(path, QStringLiteral("deployment cooldowns are %1").arg(NOT_SUPPORTED));
            } else {
                unmapped(path, NOT_SUPPORTED);
            }
        }
    }

    void readLiteLlmSettings(const YAML::Node &settings)
    {
        const QString field = QStringLiteral("litellm_settings");
        for (const auto &entry : settings) {
            const QString key = keyOf(entry.first);
            const QString path = join(field, key);
            if (key == u"fallbacks") {
                readFallbacks(entry.second, path);
            } else if (key == u"context_window_fallbacks" || key == u"content_policy_fallbacks") {
                unmapped(path, QStringLiteral("only plain fallbacks are imported; fallbacks by error kind are %1")
                                   .arg(NOT_SUPPORTED));
            } else {
                unmapped(path, NOT_SUPPORTED);
            }
        }
    }

    void readGeneralSettings(const YAML::Node &settings)
    {
        const QString field = QStringLiteral("general_settings");
        for (const auto &entry : settings) {
            const QString key = keyOf(entry.first);
            const QString path = join(field, key);
            if (key == u"master_key") {
                unmapped(path, QStringLiteral("not imported; set gateway.admin_token and create virtual keys"));
            } else if (key == u"database_url") {
                unmapped(path, QStringLiteral("not imported; Switchyard keeps its own store in --data-dir"));
            } else {
                unmapped(path, NOT_SUPPORTED);
            }
        }
    }

    // [{model: [fallback, ...]}, ...]
    void readFallbacks(const YAML::Node &list, const QString &field)
    {
        if (!list.IsSequence()) {
            unmapped(field, QStringLiteral("expected a list of {model: [fallbacks]}"));
            return;
        }
        for (std::size_t i = 0; i < list.size(); ++i) {
            const QString itemField = indexed(field, i);
            const YAML::Node item = list[i];
            if (!item.IsMap()) {
                unmapped(itemField, QStringLiteral("expected {model: [fallbacks]}"));
                continue;
            }
            for (const auto &entry : item) {
                readFallbackEntry(keyOf(entry.first), entry.second, itemField);
            }
        }
    }

    void readFallbackEntry(const QString &model, const YAML::Node &fallbacks, const QString &itemField)
    {
        const QString path = join(itemField, model);
        Route *route = findRoute(model.toUtf8());
        if (route == nullptr) {
            unmapped(path, QStringLiteral("no route '%1' was imported").arg(model));
            return;
        }
        if (!fallbacks.IsSequence()) {
            unmapped(path, QStringLiteral("expected a list of model names"));
            return;
        }
        QStringList added;
        for (std::size_t j = 0; j < fallbacks.size(); ++j) {
            const QString fallbackPath = indexed(path, j);
            const QString fallback = scalar(fallbacks[j], fallbackPath);
            if (findRoute(fallback.toUtf8()) == nullptr) {
                unmapped(fallbackPath, QStringLiteral("no route '%1' was imported").arg(fallback));
            } else if (fallback == model || reaches(fallback.toUtf8(), route->model)) {
                unmapped(fallbackPath, QStringLiteral("'%1' would make the fallbacks of route '%2' a cycle")
                                           .arg(fallback, model));
            } else if (!route->fallbacks.contains(fallback)) {
                route->fallbacks << fallback;
                added << fallback;
            }
        }
        if (!added.isEmpty()) {
            mapped(QStringLiteral("%1 -> route %2 fallbacks %3").arg(path, model, added.join(QStringLiteral(", "))));
        }
    }

    Route *findRoute(const QByteArray &model)
    {
        for (auto &route : m_result.policy.routes) {
            if (route.model == model) {
                return &route;
            }
        }
        return nullptr;
    }

    // Whether `to` is reachable from `from` through fallbacks (the graph is acyclic).
    bool reaches(const QByteArray &from, const QByteArray &to)
    {
        if (from == to) {
            return true;
        }
        const Route *route = findRoute(from);
        for (const auto &next : route->fallbacks) {
            if (reaches(next.toUtf8(), to)) {
                return true;
            }
        }
        return false;
    }

    QString m_source;
    LiteLlmImport m_result;
    std::vector<ProviderSlot> m_slots;
};

// The converted policy must load like any other; a failure here is a gap in the
// conversion, reported rather than handed on as a document that would not start.
std::optional<ConfigError> validate(const Policy &policy, const QString &sourceName)
{
    // Variables are not read at import time; any value passes, and a URL passes as base_url.
    const EnvLookup placeholders = [](const QString &) -> std::optional<QByteArray> {
        return QByteArrayLiteral("https://placeholder.invalid");
    };
    const auto parsed = parsePolicy(toYaml(policy, SecretRendering::Included), sourceName, placeholders);
    if (parsed) {
        return std::nullopt;
    }
    ConfigError error = parsed.error();
    error.line = 0;
    error.column = 0;
    error.message = QStringLiteral("the converted policy is invalid: ") + error.message;
    return error;
}

} // namespace

Expected<LiteLlmImport, ConfigError> importLiteLlmConfig(const QByteArray &yaml, const QString &sourceName)
{
    LiteLlmImport result;
    try {
        Importer importer {sourceName};
        result = importer.run(YAML::Load(yaml.toStdString()));
    } catch (const ImportFailure &failure) {
        return Unexpected {failure.error};
    } catch (const YAML::Exception &exception) {
        ConfigError error;
        error.source = sourceName;
        if (exception.mark.line >= 0) {
            error.line = exception.mark.line + 1;
            error.column = exception.mark.column + 1;
        }
        error.message = QString::fromStdString(exception.msg);
        return Unexpected {error};
    }
    if (const auto error = validate(result.policy, sourceName)) {
        return Unexpected {*error};
    }
    return result;
}

} // namespace Gateway::Config
