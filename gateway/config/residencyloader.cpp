#include "residencyloader.h"

#include <QHash>
#include <QRegularExpression>
#include <QSet>

namespace Gateway::Config {

namespace {

QString regionName(const DocumentReader &reader, const YAML::Node &node, const QString &field)
{
    static const QRegularExpression valid {QStringLiteral("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")};
    const QString name = reader.string(node, field);
    if (!valid.match(name).hasMatch()) {
        reader.fail(node, field,
                    QStringLiteral("'%1' is not a region name (1-64 letters, digits, '.', '_' or '-', e.g. eu or us-east-1)")
                        .arg(name));
    }
    return name;
}

} // namespace

void parseTargetRegion(const DocumentReader &reader, const YAML::Node &targetNode, const QString &field, Target &target)
{
    if (targetNode["region"]) {
        target.region = regionName(reader, targetNode["region"], field + QStringLiteral(".region"));
    }
}

void parseRegionList(const DocumentReader &reader, const YAML::Node &ownerNode, const QString &field, QStringList &out)
{
    const YAML::Node node = ownerNode["regions"];
    if (!node) {
        return;
    }
    const QString listField = field + QStringLiteral(".regions");
    reader.requireSequence(node, listField);
    for (std::size_t i = 0; i < node.size(); ++i) {
        const QString itemField = DocumentReader::indexed(listField, i);
        const QString name = regionName(reader, node[i], itemField);
        if (out.contains(name)) {
            reader.fail(node[i], itemField, QStringLiteral("duplicate region '%1'").arg(name));
        }
        out.push_back(name);
    }
}

void validateResidency(const DocumentReader &reader, const YAML::Node &root, const Policy &policy)
{
    QSet<QString> names;
    const auto count = [&](const QStringList &regions, const YAML::Node &at, const QString &field) {
        for (const QString &region : regions) {
            names.insert(region);
        }
        if (names.size() > MAX_REGIONS) {
            reader.fail(at, field, QStringLiteral("a policy may name at most %1 regions").arg(MAX_REGIONS));
        }
    };
    struct FirstRegion {
        QString region;
        QString field;
    };
    QHash<QString, FirstRegion> regionOfServer; // by "provider/model"
    for (std::size_t r = 0; r < policy.routes.size(); ++r) {
        const Route &route = policy.routes[r];
        const QString routeField = DocumentReader::indexed(QStringLiteral("routes"), r);
        const YAML::Node routeNode = root["routes"][r];
        count(route.regions, routeNode, routeField + QStringLiteral(".regions"));
        for (std::size_t t = 0; t < route.targets.size(); ++t) {
            const Target &target = route.targets[t];
            const QString field = DocumentReader::indexed(routeField + QStringLiteral(".targets"), t) + QStringLiteral(".region");
            const YAML::Node at = routeNode["targets"][t]["region"] ? routeNode["targets"][t]["region"] : routeNode["targets"][t];
            if (!target.region.isEmpty()) {
                count({target.region}, at, field);
            }
            const QString server = target.provider + u'/' + QString::fromUtf8(target.model);
            const auto known = regionOfServer.constFind(server);
            if (known == regionOfServer.cend()) {
                regionOfServer.insert(server, FirstRegion {target.region, field});
            } else if (known->region != target.region) {
                const auto shown = [](const QString &region) -> QString {
                    return region.isEmpty() ? QStringLiteral("no region") : u'\'' + region + u'\'';
                };
                reader.fail(at, field,
                            QStringLiteral("%1 differs from %2 (%3) for the same server %4: a server is in one region")
                                .arg(shown(target.region), known->field, shown(known->region), server));
            }
        }
    }
    for (std::size_t t = 0; t < policy.teams.size(); ++t) {
        count(policy.teams[t].regions, root["teams"][t],
              DocumentReader::indexed(QStringLiteral("teams"), t) + QStringLiteral(".regions"));
    }
    for (std::size_t k = 0; k < policy.virtualKeys.size(); ++k) {
        count(policy.virtualKeys[k].regions, root["virtual_keys"][k],
              DocumentReader::indexed(QStringLiteral("virtual_keys"), k) + QStringLiteral(".regions"));
    }
}

} // namespace Gateway::Config
