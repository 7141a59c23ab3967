#pragma once

#include <QByteArray>
#include <QByteArrayView>

namespace Gateway::Json {

// Appends `text` to `out` as a JSON string literal, quotes included.
void appendString(QByteArray &out, QByteArrayView text);

QByteArray quoted(QByteArrayView text);

} // namespace Gateway::Json
