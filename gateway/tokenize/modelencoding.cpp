#include "tokenize/modelencoding.h"

#include <QString>

namespace Gateway::Tokenize {

namespace {

// `name` is `family` itself or `family` followed by '-', '.', ':' or '@' and a suffix, so
// "o1" matches "o1-mini" but not "o10" and "gpt-4" does not match "gpt-4o".
bool isFamily(QStringView name, QLatin1String family)
{
    if (!name.startsWith(family)) {
        return false;
    }
    if (name.size() == family.size()) {
        return true;
    }
    const QChar next = name.at(family.size());
    return next == u'-' || next == u'.' || next == u':' || next == u'@';
}

} // namespace

std::optional<EncodingId> encodingForModel(QStringView model)
{
    QString name = model.trimmed().toString().toLower();
    if (const qsizetype slash = name.lastIndexOf(u'/'); slash >= 0) {
        name.remove(0, slash + 1);
    }
    if (name.startsWith(QLatin1String("ft:"))) {
        name.remove(0, 3);
    }

    // Prefixes, not families: "gpt-4o" covers "gpt-4o-mini" and "gpt-4o-2024-08-06".
    static const QLatin1String kO200kPrefixes[] = {
        QLatin1String("gpt-4o"), QLatin1String("chatgpt-4o"), QLatin1String("gpt-4.1"),
        QLatin1String("gpt-4.5"), QLatin1String("gpt-5"), QLatin1String("gpt-oss"),
    };
    for (const QLatin1String prefix : kO200kPrefixes) {
        if (name.startsWith(prefix)) {
            return EncodingId::O200kBase;
        }
    }
    for (const QLatin1String family : {QLatin1String("o1"), QLatin1String("o3"), QLatin1String("o4")}) {
        if (isFamily(name, family)) {
            return EncodingId::O200kBase;
        }
    }

    if (isFamily(name, QLatin1String("gpt-4")) || name.startsWith(QLatin1String("gpt-3.5"))
        || name.startsWith(QLatin1String("gpt-35")) || name.startsWith(QLatin1String("text-embedding-3-"))
        || name == QLatin1String("text-embedding-ada-002") || name == QLatin1String("davinci-002")
        || name == QLatin1String("babbage-002")) {
        return EncodingId::Cl100kBase;
    }
    return std::nullopt;
}

} // namespace Gateway::Tokenize
