#include "admintoken.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QRandomGenerator>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace Storage {

namespace {
constexpr const char *TOKEN_FILE = "admin.token";
constexpr int TOKEN_BYTES = 32;
} // namespace

QString adminTokenPath(const QString &dataDirectory)
{
    return QDir(dataDirectory).filePath(QLatin1String(TOKEN_FILE));
}

Gateway::Expected<QByteArray, QString> loadOrCreateAdminToken(const QString &dataDirectory)
{
    const QString path = adminTokenPath(dataDirectory);
    const QByteArray nativePath = QFile::encodeName(path);
    struct stat info {};
    if (::stat(nativePath.constData(), &info) == 0) {
        if ((info.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
            return Gateway::Unexpected {QStringLiteral("%1 is readable by other users; run: chmod 600 %1").arg(path)};
        }
        QFile file {path};
        if (!file.open(QIODevice::ReadOnly)) {
            return Gateway::Unexpected {QStringLiteral("cannot read %1: %2").arg(path, file.errorString())};
        }
        const QByteArray token = file.readAll().trimmed();
        if (token.size() < 16) {
            return Gateway::Unexpected {QStringLiteral("%1 holds no usable token; delete it to generate a new one").arg(path)};
        }
        return token;
    }
    QByteArray random(TOKEN_BYTES, Qt::Uninitialized);
    QRandomGenerator::system()->generate(reinterpret_cast<quint32 *>(random.data()),
                                         reinterpret_cast<quint32 *>(random.data() + random.size()));
    const QByteArray token = "sya_" + random.toHex();
    // Created owner-only from the first byte: never readable by others, even briefly.
    const int fd = ::open(nativePath.constData(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        return Gateway::Unexpected {QStringLiteral("cannot create %1: %2").arg(path, QString::fromLocal8Bit(std::strerror(errno)))};
    }
    const QByteArray line = token + '\n';
    const bool written = ::write(fd, line.constData(), static_cast<size_t>(line.size())) == line.size();
    ::fsync(fd);
    ::close(fd);
    if (!written) {
        return Gateway::Unexpected {QStringLiteral("cannot write %1").arg(path)};
    }
    return token;
}

} // namespace Storage
