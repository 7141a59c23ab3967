#include "configerror.h"

namespace Gateway::Config {

QString ConfigError::toString() const
{
    QString text = source;
    if (line > 0) {
        text += u':' + QString::number(line);
        if (column > 0) {
            text += u':' + QString::number(column);
        }
    }
    if (!text.isEmpty()) {
        text += QStringLiteral(": ");
    }
    if (!field.isEmpty()) {
        text += field + QStringLiteral(": ");
    }
    return text + message;
}

} // namespace Gateway::Config
