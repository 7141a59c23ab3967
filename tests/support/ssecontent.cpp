#include "ssecontent.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace TestSupport {

QByteArray joinedStreamContent(const QList<QByteArray> &dataLines)
{
    QByteArray content;
    for (const QByteArray &line : dataLines) {
        const QJsonObject object = QJsonDocument::fromJson(line).object();
        const QJsonArray choices = object.value(QStringLiteral("choices")).toArray();
        if (!choices.isEmpty()) {
            content += choices.first().toObject().value(QStringLiteral("delta")).toObject().value(QStringLiteral("content")).toString().toUtf8();
            content += choices.first().toObject().value(QStringLiteral("text")).toString().toUtf8();
        }
        if (object.value(QStringLiteral("type")).toString() == u"content_block_delta") {
            content += object.value(QStringLiteral("delta")).toObject().value(QStringLiteral("text")).toString().toUtf8();
        }
    }
    return content;
}

QByteArray expectedSimContent(int count)
{
    QByteArray content;
    for (int i = 0; i < count; ++i) {
        if (i > 0) {
            content += ' ';
        }
        content += "tok" + QByteArray::number(i);
    }
    return content;
}

} // namespace TestSupport
