#include "processstats.h"

#include <QDir>
#include <QFile>
#include <QSet>

#include <sys/resource.h>
#include <unistd.h>

namespace TestSupport {

namespace {

QString procPath(qint64 pid, const char *entry)
{
    return (pid == 0 ? QStringLiteral("/proc/self/") : QStringLiteral("/proc/%1/").arg(pid)) + QLatin1String(entry);
}

} // namespace

int openFileDescriptors(qint64 pid)
{
    const QDir dir {procPath(pid, "fd")};
    if (!dir.exists()) {
        return -1;
    }
    // Listing /proc/self/fd opens one descriptor itself; it is not counted.
    const int entries =
        static_cast<int>(dir.entryList(QDir::Files | QDir::System | QDir::NoDotAndDotDot, QDir::NoSort).size());
    return pid == 0 ? entries - 1 : entries;
}

qint64 residentKiB(qint64 pid)
{
    QFile status {procPath(pid, "status")};
    if (!status.open(QIODevice::ReadOnly)) {
        return -1;
    }
    for (const QByteArray &line : status.readAll().split('\n')) {
        if (line.startsWith("VmRSS:")) {
            return line.mid(6).trimmed().split(' ').constFirst().toLongLong();
        }
    }
    return -1;
}

int socketsConnectedTo(qint64 pid, const QList<quint16> &remotePorts)
{
    // Socket inodes whose remote end is one of the ports, from the kernel's TCP table
    // (hex "ADDR:PORT" columns; the inode is the tenth field).
    QSet<QByteArray> inodes;
    QFile table {procPath(pid, "net/tcp")};
    if (!table.open(QIODevice::ReadOnly)) {
        return -1;
    }
    const QList<QByteArray> lines = table.readAll().split('\n');
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const QList<QByteArray> fields = lines[i].simplified().split(' ');
        if (fields.size() < 10) {
            continue;
        }
        const QByteArray remote = fields[2];
        const auto port = static_cast<quint16>(remote.mid(remote.indexOf(':') + 1).toUInt(nullptr, 16));
        if (remotePorts.contains(port)) {
            inodes.insert(fields[9]);
        }
    }
    int count = 0;
    const QString fdDir = procPath(pid, "fd");
    const QDir dir {fdDir};
    char target[64];
    for (const QString &name : dir.entryList(QDir::Files | QDir::System | QDir::NoDotAndDotDot, QDir::NoSort)) {
        // A socket's link reads "socket:[INODE]".
        const QByteArray path = QFile::encodeName(fdDir + QLatin1Char('/') + name);
        const ssize_t length = ::readlink(path.constData(), target, sizeof target);
        const QByteArrayView link {target, length > 0 ? static_cast<qsizetype>(length) : 0};
        if (link.startsWith("socket:[") && link.endsWith(']') && inodes.contains(link.sliced(8).chopped(1).toByteArray())) {
            ++count;
        }
    }
    return count;
}

qint64 raiseFileDescriptorLimit()
{
    rlimit limit {};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) {
        return -1;
    }
    if (limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &limit);
        ::getrlimit(RLIMIT_NOFILE, &limit);
    }
    return static_cast<qint64>(limit.rlim_cur);
}

} // namespace TestSupport
