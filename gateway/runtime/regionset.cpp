#include "regionset.h"

namespace Gateway::Runtime {

std::uint64_t RegionCatalog::bitOf(const QString &name)
{
    if (name.isEmpty()) {
        return 0;
    }
    qsizetype index = m_names.indexOf(name);
    if (index < 0) {
        index = m_names.size();
        m_names.push_back(name);
    }
    // Validation caps the names at 64; one beyond would simply match nothing.
    return index < 64 ? std::uint64_t {1} << index : 0;
}

RegionSet RegionCatalog::setOf(const QStringList &names)
{
    if (names.isEmpty()) {
        return RegionSet::unrestricted();
    }
    std::uint64_t bits = 0;
    for (const QString &name : names) {
        bits |= bitOf(name);
    }
    return RegionSet::only(bits);
}

QByteArray RegionCatalog::describe(const RegionSet &set) const
{
    if (!set.restricted) {
        return QByteArrayLiteral("any");
    }
    QByteArray out;
    for (qsizetype i = 0; i < m_names.size() && i < 64; ++i) {
        if ((set.bits & (std::uint64_t {1} << i)) != 0) {
            out += (out.isEmpty() ? "" : ", ") + m_names[i].toUtf8();
        }
    }
    return out.isEmpty() ? QByteArrayLiteral("none") : out;
}

QByteArray RegionCatalog::nameOf(std::uint64_t regionBit) const
{
    for (qsizetype i = 0; i < m_names.size() && i < 64; ++i) {
        if (regionBit == (std::uint64_t {1} << i)) {
            return m_names[i].toUtf8();
        }
    }
    return {};
}

} // namespace Gateway::Runtime
