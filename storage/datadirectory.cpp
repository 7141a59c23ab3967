#include "datadirectory.h"

#include <QDir>
#include <QFile>
#include <QStandardPaths>

namespace Storage {

Gateway::Expected<QString, QString> prepareDataDirectory(const QString &override)
{
    QString path = override;
    if (path.isEmpty()) {
        path = QStandardPaths::writableLocation(QStandardPaths::GenericDataLocation) + QStringLiteral("/switchyard");
    }
    path = QDir::cleanPath(QDir(path).absolutePath());
    if (!QDir().mkpath(path)) {
        return Gateway::Unexpected {QStringLiteral("cannot create data directory %1").arg(path)};
    }
    QFile::setPermissions(path, QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner);
    return path;
}

} // namespace Storage
