#pragma once

#include <QByteArray>
#include <QString>
#include <QVariant>

namespace Storage::SqlValues {

// Values to bind to NOT NULL columns. Qt's SQLite driver binds a null QString or
// QByteArray as SQL NULL, so an empty-but-null value (QString(), a default-constructed
// QByteArray) would violate NOT NULL; these return a non-null empty value instead.

// TEXT column from a QString.
QVariant text(const QString &value);
// TEXT column from UTF-8 bytes (route names, backend names, JSON). Stored as TEXT, not
// BLOB, because SQLite never considers a BLOB equal to a TEXT: filters bind QStrings.
QVariant text(const QByteArray &value);
// BLOB column.
QVariant blob(const QByteArray &value);

} // namespace Storage::SqlValues
