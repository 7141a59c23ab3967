#include "sqlvalues.h"

namespace Storage::SqlValues {

QVariant text(const QString &value)
{
    if (value.isNull()) {
        // A literal points at static data, so it is empty but not null.
        return QVariant {QStringLiteral("")};
    }
    return QVariant {value};
}

QVariant text(const QByteArray &value)
{
    return text(QString::fromUtf8(value));
}

QVariant blob(const QByteArray &value)
{
    if (value.isNull()) {
        return QVariant {QByteArray {"", 0}};
    }
    return QVariant {value};
}

} // namespace Storage::SqlValues
