#pragma once

#include "util/expected.h"

#include <QByteArray>
#include <QString>

namespace Storage {

// The admin API is never open without a token. When the policy sets none, this token is
// generated at first start (32 random bytes, hex), kept in <dataDir>/admin.token with
// mode 0600 and shown to the operator by the console.
Gateway::Expected<QByteArray, QString> loadOrCreateAdminToken(const QString &dataDirectory);

// Where that token is kept: what the start-up log names instead of the token itself.
QString adminTokenPath(const QString &dataDirectory);

} // namespace Storage
