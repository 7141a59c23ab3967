#pragma once

#include "util/expected.h"

#include <QString>

#include <memory>

namespace Storage {

class SecretBox;

// Where the master key that seals provider secrets comes from. In order:
//  1. an existing <dataDir>/secret.key (mode 0600), so stores created earlier keep working;
//  2. the OS keychain through QtKeychain, when a keychain service is reachable on the
//     D-Bus session bus (the key is generated and stored there at first start; no key
//     file is written);
//  3. otherwise a new <dataDir>/secret.key, created owner-only.
// Runs QtKeychain's jobs to completion with a local event loop, so call it only on a
// thread that is neither the GUI nor a data-plane thread (the store's thread).
struct MasterKey {
    std::unique_ptr<SecretBox> box;
    QString source; // "keychain" or the key file's path
};

Gateway::Expected<MasterKey, QString> openMasterKey(const QString &dataDirectory);

} // namespace Storage
