#pragma once

#include <QByteArray>
#include <QJsonObject>
#include <QString>

namespace Ui {

// One answer of the store's service layer as the console sees it: the HTTP-style status
// and JSON body of Gateway::Admin::AdminReply, with the error fields picked out.
struct AdminReply {
    int status = 0;
    QByteArray body;

    bool ok() const { return status >= 200 && status < 300; }
    QJsonObject json() const;
    // The service's "error.message" (which names file:line:column and the field for an
    // invalid policy), or the raw body when it is not the error shape.
    QString errorMessage() const;
    // "error.param": the policy field at fault, e.g. routes[0].targets[1].weight.
    QString errorField() const;
};

} // namespace Ui
