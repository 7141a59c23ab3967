#include "adminreply.h"

#include <QJsonDocument>

namespace Ui {

QJsonObject AdminReply::json() const
{
    return QJsonDocument::fromJson(body).object();
}

QString AdminReply::errorMessage() const
{
    const QJsonObject error = json().value(u"error").toObject();
    if (error.isEmpty()) {
        return QString::fromUtf8(body);
    }
    return error.value(u"message").toString();
}

QString AdminReply::errorField() const
{
    return json().value(u"error").toObject().value(u"param").toString();
}

} // namespace Ui
