#pragma once

#include "commandline.h"

namespace App {

// `switchyard export`, `import FILE` and `import-litellm FILE`: work on the policy store
// in the data directory and return the process exit code. A running gateway picks an
// imported version up within a second.
int runStoreCommand(const CommandLine &options, const QString &dataDirectory);

} // namespace App
