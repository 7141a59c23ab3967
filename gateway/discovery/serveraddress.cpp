#include "serveraddress.h"

namespace Gateway::Discovery {

QString ServerAddress::hostPort() const
{
    const QString host = address.contains(u':') ? u'[' + address + u']' : address;
    return host + u':' + QString::number(port);
}

} // namespace Gateway::Discovery
