#pragma once

#include "util/expected.h"

#include <QByteArray>
#include <QList>
#include <QString>

#include <functional>
#include <optional>

namespace Storage {

class Database;

// One stored policy version. The document is opaque here: the policy service serialises
// and parses it; the store only keeps bytes and the caller's content hash.
struct StoredVersion {
    qint64 id = 0;
    qint64 createdAtMs = 0; // Unix epoch, milliseconds
    QString author;
    QString comment;
    QByteArray contentHash;
    QByteArray document;
};

// Policy history and the pointer to the active version, in SQLite.
//
// Versions are append-only: ids grow, a version is never changed after it is added.
// Activating a version (including rolling back to an old one) only moves the pointer in
// active_policy, so the history stays complete. The pointer is a foreign key: it can
// only name an existing version.
//
// Runs on the caller's Database and therefore on the caller's thread (see Database).
// Each write is its own transaction; do not call these while a transaction of your own
// is open on the same Database.
class PolicyVersionStore final {
public:
    // More writes that must commit together with a version change, or not at all (the
    // audit row): called inside the transaction with the version now active; an error
    // rolls the whole change back.
    using InTransaction = std::function<Gateway::Expected<bool, QString>(qint64 versionId)>;

    explicit PolicyVersionStore(Database &db);

    // Appends a version and returns its id. Does not activate it.
    Gateway::Expected<qint64, QString> addVersion(const QByteArray &document, const QByteArray &contentHash,
                                                  const QString &author, const QString &comment);

    // Appends a version and makes it active in ONE transaction: after a crash the store
    // holds either neither change or both, never a new version without the pointer
    // moving or a pointer to a version that is not there.
    Gateway::Expected<qint64, QString> addAndActivate(const QByteArray &document, const QByteArray &contentHash,
                                                      const QString &author, const QString &comment,
                                                      const InTransaction &alsoInTransaction = {});

    // Points active_policy at an existing version. Fails (and changes nothing) when the
    // id is unknown. The value is always true.
    Gateway::Expected<bool, QString> setActive(qint64 id, const InTransaction &alsoInTransaction = {});

    // nullopt when the id is unknown (or the database cannot be read, which is logged).
    std::optional<StoredVersion> version(qint64 id) const;

    // Newest first, at most limit (clamped to 1..1000) versions with an id below
    // beforeId; beforeId = 0 starts at the newest. For the next page pass the last id
    // returned.
    QList<StoredVersion> versions(int limit, qint64 beforeId = 0) const;

    // The active version's id; nullopt on a store that never had one activated.
    std::optional<qint64> activeVersionId() const;

    // The active version itself (one query); what start-up loads.
    std::optional<StoredVersion> activeVersion() const;

    static constexpr int MAX_PAGE = 1000;

private:
    Gateway::Expected<qint64, QString> insert(const QByteArray &document, const QByteArray &contentHash,
                                              const QString &author, const QString &comment);
    Gateway::Expected<bool, QString> pointAt(qint64 id);

    Database &m_db;
};

} // namespace Storage
