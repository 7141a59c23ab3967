#include "mcpupstream.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTcpServer>
#include <QTcpSocket>

namespace TestSupport {

namespace {

QByteArray reasonOf(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 202:
        return "Accepted";
    case 400:
        return "Bad Request";
    case 404:
        return "Not Found";
    default:
        return "Status";
    }
}

QByteArray resultMessage(const QJsonValue &id, const QJsonObject &result)
{
    QJsonObject message {{QStringLiteral("jsonrpc"), QStringLiteral("2.0")}, {QStringLiteral("id"), id},
                         {QStringLiteral("result"), result}};
    return QJsonDocument(message).toJson(QJsonDocument::Compact);
}

} // namespace

McpUpstream::McpUpstream(QByteArray name, QStringList tools, QObject *parent)
    : QObject {parent}
    , m_name {std::move(name)}
    , m_tools {tools.isEmpty() ? QStringList {QStringLiteral("read_file"), QStringLiteral("write_file"),
                                              QStringLiteral("delete_file"), QStringLiteral("stream_progress")}
                               : std::move(tools)}
    , m_server {new QTcpServer(this)}
{
    connect(m_server, &QTcpServer::newConnection, this, &McpUpstream::onNewConnection);
}

McpUpstream::~McpUpstream() = default;

bool McpUpstream::listen()
{
    return m_server->listen(QHostAddress::LocalHost, 0);
}

quint16 McpUpstream::port() const
{
    return m_server->serverPort();
}

QByteArray McpUpstream::url() const
{
    return "http://127.0.0.1:" + QByteArray::number(port()) + "/mcp";
}

int McpUpstream::totalRequests() const
{
    int total = 0;
    for (const int count : m_requests) {
        total += count;
    }
    return total;
}

void McpUpstream::onNewConnection()
{
    while (QTcpSocket *socket = m_server->nextPendingConnection()) {
        socket->setParent(this);
        m_pending.insert(socket, {});
        connect(socket, &QTcpSocket::readyRead, this, [this, socket] { onReadyRead(socket); });
        connect(socket, &QTcpSocket::disconnected, this, [this, socket] {
            m_pending.remove(socket);
            m_streams.remove(socket);
            socket->deleteLater();
        });
    }
}

void McpUpstream::onReadyRead(QTcpSocket *socket)
{
    auto it = m_pending.find(socket);
    if (it == m_pending.end()) {
        socket->readAll(); // one request per connection: anything after it is ignored
        return;
    }
    it->bytes += socket->readAll();
    const qsizetype headEnd = it->bytes.indexOf("\r\n\r\n");
    if (headEnd < 0) {
        return;
    }
    const QList<QByteArray> lines = it->bytes.left(headEnd).split('\n');
    const QList<QByteArray> requestLine = lines.value(0).trimmed().split(' ');
    QHash<QByteArray, QByteArray> headers;
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const qsizetype colon = lines[i].indexOf(':');
        if (colon > 0) {
            headers.insert(lines[i].left(colon).trimmed().toLower(), lines[i].mid(colon + 1).trimmed());
        }
    }
    const qsizetype length = headers.value("content-length").toLongLong();
    if (it->bytes.size() < headEnd + 4 + length) {
        return;
    }
    const QByteArray body = it->bytes.mid(headEnd + 4, length);
    m_pending.erase(it);
    m_lastHeaders = headers;
    answer(socket, requestLine.value(0), headers, body);
}

void McpUpstream::answer(QTcpSocket *socket, const QByteArray &method, const QHash<QByteArray, QByteArray> &headers,
                         const QByteArray &body)
{
    const QByteArray session = headers.value("mcp-session-id");
    if (!session.isEmpty() && !m_sessions.contains(session)) {
        ++m_requests[method == "POST" ? QByteArrayLiteral("unknown-session") : method];
        respond(socket, 404, "application/json",
                R"({"jsonrpc":"2.0","id":null,"error":{"code":-32001,"message":"Session not found"}})");
        return;
    }
    if (method == "GET") {
        ++m_requests["GET"];
        startStream(socket);
        m_streams.insert(socket, Stream {true, {}});
        socket->write("id: " + QByteArray::number(m_nextEvent++) +
                      "\nevent: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\","
                      "\"params\":{\"level\":\"info\",\"data\":\"stream opened on " +
                      m_name + "\"}}\n\n");
        return;
    }
    if (method == "DELETE") {
        ++m_requests["DELETE"];
        m_sessions.remove(session);
        respond(socket, 200, "application/json", {});
        return;
    }
    answerPost(socket, headers, body);
}

void McpUpstream::answerPost(QTcpSocket *socket, const QHash<QByteArray, QByteArray> &headers, const QByteArray &body)
{
    const QJsonObject request = QJsonDocument::fromJson(body).object();
    const QByteArray method = request.value(u"method").toString().toUtf8();
    const QJsonValue id = request.value(u"id");
    ++m_requests[method];
    if (method == "initialize") {
        const QByteArray session = m_name + '-' + QByteArray::number(m_nextSession++);
        m_sessions.insert(session);
        const QJsonObject result {
            {QStringLiteral("protocolVersion"), request.value(u"params").toObject().value(u"protocolVersion")},
            {QStringLiteral("capabilities"), QJsonObject {{QStringLiteral("tools"), QJsonObject {}}}},
            {QStringLiteral("serverInfo"), QJsonObject {{QStringLiteral("name"), QString::fromUtf8(m_name)},
                                                        {QStringLiteral("version"), QStringLiteral("1.0.0")}}}};
        respond(socket, 200, "application/json", resultMessage(id, result), "Mcp-Session-Id: " + session + "\r\n");
        return;
    }
    if (method.startsWith("notifications/") || method.isEmpty()) {
        respond(socket, 202, {}, {});
        return;
    }
    if (method == "tools/list") {
        QJsonArray tools;
        for (const QString &tool : m_tools) {
            tools.append(QJsonObject {{QStringLiteral("name"), tool},
                                      {QStringLiteral("inputSchema"), QJsonObject {{QStringLiteral("type"), QStringLiteral("object")}}}});
        }
        respondMessage(socket, headers, resultMessage(id, {{QStringLiteral("tools"), tools}}));
        return;
    }
    if (method == "tools/call") {
        const QString tool = request.value(u"params").toObject().value(u"name").toString();
        const QJsonObject result {{QStringLiteral("content"),
                                   QJsonArray {QJsonObject {{QStringLiteral("type"), QStringLiteral("text")},
                                                            {QStringLiteral("text"), QString(tool + u" by " + QString::fromUtf8(m_name))}}}}};
        if (tool == u"stream_progress" && headers.value("accept").contains("text/event-stream")) {
            startStream(socket);
            socket->write("id: " + QByteArray::number(m_nextEvent++) +
                          "\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\","
                          "\"params\":{\"progressToken\":1,\"progress\":1,\"total\":2}}\n\n");
            m_streams.insert(socket, Stream {false, "id: " + QByteArray::number(m_nextEvent++) + "\ndata: " +
                                                        resultMessage(id, result) + "\n\n"});
            return;
        }
        respondMessage(socket, headers, resultMessage(id, result));
        return;
    }
    if (method == "ping") {
        respond(socket, 200, "application/json", resultMessage(id, {}));
        return;
    }
    respond(socket, 200, "application/json",
            QJsonDocument(QJsonObject {{QStringLiteral("jsonrpc"), QStringLiteral("2.0")},
                                       {QStringLiteral("id"), id},
                                       {QStringLiteral("error"), QJsonObject {{QStringLiteral("code"), -32601},
                                                                              {QStringLiteral("message"), QStringLiteral("Method not found")}}}})
                .toJson(QJsonDocument::Compact));
}

void McpUpstream::releaseStreams()
{
    for (auto it = m_streams.begin(); it != m_streams.end();) {
        if (it->get) {
            ++it;
            continue;
        }
        QTcpSocket *socket = it.key();
        socket->write(it->heldResult);
        socket->disconnectFromHost(); // the body ends with the connection
        it = m_streams.erase(it);
    }
}

void McpUpstream::pushToStreams(const QByteArray &data)
{
    for (auto it = m_streams.begin(); it != m_streams.end(); ++it) {
        if (it->get) {
            it.key()->write("id: " + QByteArray::number(m_nextEvent++) + "\ndata: " + data + "\n\n");
        }
    }
}

void McpUpstream::respond(QTcpSocket *socket, int status, const QByteArray &contentType, const QByteArray &body,
                          const QByteArray &extraHeaders)
{
    QByteArray head = "HTTP/1.1 " + QByteArray::number(status) + ' ' + reasonOf(status) + "\r\n";
    if (!contentType.isEmpty()) {
        head += "Content-Type: " + contentType + "\r\n";
    }
    head += extraHeaders + "Content-Length: " + QByteArray::number(body.size()) + "\r\nConnection: close\r\n\r\n";
    socket->write(head + body);
    socket->disconnectFromHost();
}

void McpUpstream::respondMessage(QTcpSocket *socket, const QHash<QByteArray, QByteArray> &headers,
                                 const QByteArray &message)
{
    if (!m_eventStreamAnswers || !headers.value("accept").contains("text/event-stream")) {
        respond(socket, 200, "application/json", message);
        return;
    }
    startStream(socket);
    socket->write("id: " + QByteArray::number(m_nextEvent++) + "\nevent: message\ndata: " + message + "\n\n");
    socket->disconnectFromHost();
}

void McpUpstream::startStream(QTcpSocket *socket, const QByteArray &extraHeaders)
{
    // Close-delimited: the event stream's body ends when the connection does.
    socket->write("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n" + extraHeaders +
                  "Connection: close\r\n\r\n");
}

} // namespace TestSupport
