#include "h2cupstream.h"

#include <QHostAddress>
#include <QTcpServer>
#include <QTcpSocket>

namespace TestSupport {

H2cUpstream::H2cUpstream(QObject *parent)
    : QObject {parent}
    , m_server {new QTcpServer(this)}
{
    // A soak holds thousands of streams on few connections; the default backlog (50)
    // is enough for those, but not for a burst of connection attempts from a gateway
    // that does not multiplex.
    m_server->setListenBacklogSize(4096);
    connect(m_server, &QTcpServer::newConnection, this, &H2cUpstream::onNewConnection);
}

H2cUpstream::~H2cUpstream()
{
    // The connections (children) go first: they update the counters as they do.
    for (H2cUpstreamConnection *connection : findChildren<H2cUpstreamConnection *>(Qt::FindDirectChildrenOnly)) {
        delete connection;
    }
}

bool H2cUpstream::listen()
{
    return m_server->listen(QHostAddress::LocalHost, 0);
}

quint16 H2cUpstream::port() const
{
    return m_server->serverPort();
}

QByteArray H2cUpstream::baseUrl() const
{
    return "http://127.0.0.1:" + QByteArray::number(port()) + "/v1";
}

void H2cUpstream::releaseHeldStreams()
{
    for (H2cUpstreamConnection *connection : findChildren<H2cUpstreamConnection *>(Qt::FindDirectChildrenOnly)) {
        connection->releaseHeldStreams();
    }
}

void H2cUpstream::onNewConnection()
{
    while (QTcpSocket *socket = m_server->nextPendingConnection()) {
        new H2cUpstreamConnection(socket, m_behaviour, m_counters, this);
    }
}

} // namespace TestSupport
