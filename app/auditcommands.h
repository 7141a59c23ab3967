#pragma once

#include "commandline.h"

namespace App {

// `switchyard audit verify [--anchor HASH]` and `switchyard audit list [--limit N]`:
// read the audit log of the store in the data directory and return the exit code.
// verify: 0 when the chain is intact, AUDIT_BROKEN when it is not, 1 when the store
// cannot be read.
inline constexpr int AUDIT_BROKEN = 3;

int runAuditCommand(const CommandLine &options, const QString &dataDirectory);

} // namespace App
