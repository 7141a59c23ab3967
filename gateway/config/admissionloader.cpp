#include "admissionloader.h"

#include <QHash>

namespace Gateway::Config {

namespace {

// Far beyond any GPU server's batch: a larger value is a typo, not a cap.
constexpr qint64 MAX_CONCURRENCY = 100000;
constexpr qint64 MAX_QUEUED = 1000000;
constexpr qint64 MAX_DURATION_MS = 24LL * 3600 * 1000;
constexpr double MAX_CLASS_WEIGHT = 1e6;

AdmissionClass parseClass(const DocumentReader &reader, const YAML::Node &node, const QString &field,
                          Admission::PriorityClass priority, AdmissionClass settings)
{
    reader.requireMap(node, field);
    reader.checkKeys(node, field, {"ttft_objective_ms", "max_queue_wait_ms", "weight"});
    const auto sub = [&field](const char *key) { return DocumentReader::join(field, QString::fromLatin1(key)); };
    if (node["ttft_objective_ms"]) {
        settings.ttftObjectiveMs = reader.integer(node["ttft_objective_ms"], sub("ttft_objective_ms"), 1, MAX_DURATION_MS);
    }
    if (node["max_queue_wait_ms"]) {
        settings.maxQueueWaitMs = reader.integer(node["max_queue_wait_ms"], sub("max_queue_wait_ms"), 1, MAX_DURATION_MS);
    }
    if (node["weight"]) {
        settings.weight = reader.number(node["weight"], sub("weight"), 0.0, MAX_CLASS_WEIGHT);
        if (settings.weight <= 0.0) {
            reader.fail(node["weight"], sub("weight"), QStringLiteral("must be greater than 0"));
        }
    }
    // The queue's own rule has the last word, so the document and the queue never
    // disagree about what is valid.
    const Admission::ClassSettings checked {settings.ttftObjectiveMs, settings.maxQueueWaitMs, settings.weight};
    if (const auto error = Admission::classSettingsError(priority, checked)) {
        reader.fail(node, field, *error);
    }
    return settings;
}

} // namespace

AdmissionPolicy parseAdmission(const DocumentReader &reader, const YAML::Node &node)
{
    const QString field = QStringLiteral("admission");
    AdmissionPolicy admission;
    reader.requireMap(node, field);
    reader.checkKeys(node, field, {"max_queued", "classes"});
    if (node["max_queued"]) {
        admission.maxQueued =
            static_cast<int>(reader.integer(node["max_queued"], QStringLiteral("admission.max_queued"), 1, MAX_QUEUED));
    }
    if (node["classes"]) {
        const YAML::Node classes = node["classes"];
        const QString classesField = QStringLiteral("admission.classes");
        reader.requireMap(classes, classesField);
        reader.checkKeys(classes, classesField, {"interactive", "standard", "batch"});
        for (const Admission::PriorityClass priority : Admission::PRIORITY_CLASSES) {
            const QLatin1String name = Admission::priorityClassName(priority);
            const YAML::Node classNode = classes[std::string(name.data(), static_cast<std::size_t>(name.size()))];
            if (classNode) {
                AdmissionClass &settings = admission.classes[Admission::classIndex(priority)];
                settings = parseClass(reader, classNode, DocumentReader::join(classesField, name), priority, settings);
            }
        }
    }
    return admission;
}

void parseTargetConcurrency(const DocumentReader &reader, const YAML::Node &targetNode, const QString &field,
                            Target &target)
{
    if (targetNode["max_concurrency"]) {
        target.maxConcurrency = static_cast<int>(
            reader.integer(targetNode["max_concurrency"], field + QStringLiteral(".max_concurrency"), 0, MAX_CONCURRENCY));
    }
}

void parseKeyPriority(const DocumentReader &reader, const YAML::Node &keyNode, const QString &field, VirtualKey &key)
{
    if (!keyNode["priority"]) {
        return;
    }
    const QString priorityField = field + QStringLiteral(".priority");
    const QByteArray value = reader.string(keyNode["priority"], priorityField).toUtf8();
    const auto priority = Admission::parsePriorityClass(value);
    if (!priority) {
        reader.fail(keyNode["priority"], priorityField,
                    QStringLiteral("unknown priority '%1' (allowed: interactive, standard, batch)")
                        .arg(QString::fromUtf8(value)));
    }
    key.priority = priority.value();
}

void validateConcurrencyCaps(const DocumentReader &reader, const YAML::Node &root, const Policy &policy)
{
    struct FirstCap {
        int cap = 0;
        QString field;
    };
    QHash<QString, FirstCap> capOfServer; // by "provider/model"
    for (std::size_t r = 0; r < policy.routes.size(); ++r) {
        const Route &route = policy.routes[r];
        const YAML::Node targetsNode = root["routes"][r]["targets"];
        const QString targetsField = DocumentReader::indexed(QStringLiteral("routes"), r) + QStringLiteral(".targets");
        std::size_t cappedIndex = route.targets.size(); // the first capped target, if any
        for (std::size_t t = 0; t < route.targets.size(); ++t) {
            if (route.targets[t].maxConcurrency > 0 && route.targets[t].pool != Routing::TargetPool::Prefill) {
                cappedIndex = t;
                break;
            }
        }
        for (std::size_t t = 0; t < route.targets.size(); ++t) {
            const Target &target = route.targets[t];
            if (target.pool == Routing::TargetPool::Prefill) {
                continue; // not admission-controlled (validatePrefillDecode refuses a cap there)
            }
            const QString field = DocumentReader::indexed(targetsField, t) + QStringLiteral(".max_concurrency");
            const YAML::Node at = targetsNode[t]["max_concurrency"] ? targetsNode[t]["max_concurrency"] : targetsNode[t];
            if (cappedIndex < route.targets.size() && target.maxConcurrency == 0) {
                reader.fail(at, field,
                            QStringLiteral("every target of a route needs a cap once one has (targets[%1] has %2): an "
                                           "uncapped target is never saturated, so the route would never queue")
                                .arg(cappedIndex)
                                .arg(route.targets[cappedIndex].maxConcurrency));
            }
            const QString server = target.provider + u'/' + QString::fromUtf8(target.model);
            const auto known = capOfServer.constFind(server);
            if (known == capOfServer.cend()) {
                capOfServer.insert(server, FirstCap {target.maxConcurrency, field});
            } else if (known->cap != target.maxConcurrency) {
                reader.fail(at, field,
                            QStringLiteral("%1 differs from %2 (%3) for the same server %4: a server has one cap")
                                .arg(target.maxConcurrency)
                                .arg(known->field)
                                .arg(known->cap)
                                .arg(server));
            }
        }
    }
}

} // namespace Gateway::Config
