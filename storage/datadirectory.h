#pragma once

#include "util/expected.h"

#include <QString>

namespace Storage {

// Resolves and creates Switchyard's data directory: the --data-dir override, else the
// XDG data location (~/.local/share/switchyard). Created owner-only (0700) because it
// will hold secrets and the request log.
Gateway::Expected<QString, QString> prepareDataDirectory(const QString &override);

} // namespace Storage
