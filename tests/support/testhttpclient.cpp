#include "testhttpclient.h"

#include <QJsonDocument>
#include <QSslConfiguration>
#include <QSslSocket>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>

#include <http_parser.h>

namespace TestSupport {

struct TestHttpClient::Parser {
    http_parser parser {};
    http_parser_settings settings {};
    TestHttpClient *client = nullptr;

    explicit Parser(TestHttpClient *owner)
        : client {owner}
    {
        http_parser_init(&parser, HTTP_RESPONSE);
        parser.data = this;
        http_parser_settings_init(&settings);
        settings.on_message_begin = &Parser::messageBegin;
        settings.on_header_field = &Parser::headerField;
        settings.on_header_value = &Parser::headerValue;
        settings.on_headers_complete = &Parser::headersComplete;
        settings.on_body = &Parser::body;
        settings.on_message_complete = &Parser::messageComplete;
    }

    static TestHttpClient &owner(http_parser *parser) { return *static_cast<Parser *>(parser->data)->client; }

    static void flushHeader(TestHttpClient &self)
    {
        if (!self.m_headerField.isEmpty()) {
            self.m_current.headers.push_back({self.m_headerField.toLower(), self.m_headerValue});
        }
        self.m_headerField.clear();
        self.m_headerValue.clear();
        self.m_inHeaderValue = false;
    }

    static int messageBegin(http_parser *parser)
    {
        TestHttpClient &self = owner(parser);
        self.m_current = Response {};
        self.m_headerField.clear();
        self.m_headerValue.clear();
        self.m_inHeaderValue = false;
        return 0;
    }

    static int headerField(http_parser *parser, const char *at, std::size_t length)
    {
        TestHttpClient &self = owner(parser);
        if (self.m_inHeaderValue) {
            flushHeader(self);
        }
        self.m_headerField.append(at, static_cast<qsizetype>(length));
        return 0;
    }

    static int headerValue(http_parser *parser, const char *at, std::size_t length)
    {
        TestHttpClient &self = owner(parser);
        self.m_inHeaderValue = true;
        self.m_headerValue.append(at, static_cast<qsizetype>(length));
        return 0;
    }

    static int headersComplete(http_parser *parser)
    {
        TestHttpClient &self = owner(parser);
        flushHeader(self);
        self.m_current.status = static_cast<int>(parser->status_code);
        if (parser->status_code >= 100 && parser->status_code < 200) {
            return 0; // no body; the request is still waiting for its final response
        }
        const QByteArray method = self.m_methods.isEmpty() ? QByteArray() : self.m_methods.head();
        return method == "HEAD" ? 1 : 0; // 1: this response has no body whatever it says
    }

    static int body(http_parser *parser, const char *at, std::size_t length)
    {
        TestHttpClient &self = owner(parser);
        const QByteArray data(at, static_cast<qsizetype>(length));
        self.m_current.body.append(data);
        emit self.bodyData(data);
        return 0;
    }

    static int messageComplete(http_parser *parser)
    {
        TestHttpClient &self = owner(parser);
        if (self.m_current.status >= 100 && self.m_current.status < 200) {
            ++self.m_informational;
            return 0;
        }
        if (!self.m_methods.isEmpty()) {
            self.m_methods.dequeue();
        }
        self.m_responses.append(self.m_current);
        emit self.responseComplete();
        return 0;
    }
};

QByteArray TestHttpClient::Response::header(QByteArrayView name) const
{
    const QByteArray lower = name.toByteArray().toLower();
    for (const auto &entry : headers) {
        if (entry.name == lower) {
            return entry.value;
        }
    }
    return {};
}

namespace {

struct SseEvent {
    QByteArray name;
    QByteArray data;
    bool hasData = false;
};

QList<SseEvent> parseSse(const QByteArray &body)
{
    QList<SseEvent> events;
    SseEvent event;
    bool any = false;
    for (QByteArray line : body.split('\n')) {
        if (line.endsWith('\r')) {
            line.chop(1);
        }
        if (line.isEmpty()) {
            if (any) {
                events.append(event);
            }
            event = SseEvent {};
            any = false;
            continue;
        }
        if (line.startsWith(':')) {
            continue; // comment / keep-alive
        }
        const qsizetype colon = line.indexOf(':');
        const QByteArray field = colon < 0 ? line : line.left(colon);
        QByteArray value = colon < 0 ? QByteArray() : line.mid(colon + 1);
        if (value.startsWith(' ')) {
            value.remove(0, 1);
        }
        if (field == "data") {
            event.data = event.hasData ? event.data + '\n' + value : value;
            event.hasData = true;
            any = true;
        } else if (field == "event") {
            event.name = value;
            any = true;
        }
    }
    if (any) {
        events.append(event); // a final event without its blank line
    }
    return events;
}

} // namespace

QList<QByteArray> TestHttpClient::Response::sseDataLines() const
{
    QList<QByteArray> lines;
    for (const SseEvent &event : parseSse(body)) {
        if (event.hasData) {
            lines.append(event.data);
        }
    }
    return lines;
}

QList<QByteArray> TestHttpClient::Response::sseEventNames() const
{
    QList<QByteArray> names;
    for (const SseEvent &event : parseSse(body)) {
        names.append(event.name);
    }
    return names;
}

TestHttpClient::TestHttpClient(quint16 port, QObject *parent)
    : TestHttpClient {Endpoint {port}, parent}
{
}

TestHttpClient::TestHttpClient(const Endpoint &endpoint, QObject *parent)
    : QObject {parent}
    , m_socket {endpoint.tls ? new QSslSocket(this) : new QTcpSocket(this)}
    , m_parser {std::make_unique<Parser>(this)}
    , m_port {endpoint.port}
    , m_tls {endpoint.tls}
{
    connect(m_socket, &QTcpSocket::readyRead, this, &TestHttpClient::onReadyRead);
    connect(m_socket, &QTcpSocket::disconnected, this, &TestHttpClient::onDisconnected);
    if (!m_tls) {
        connect(m_socket, &QTcpSocket::connected, this, &TestHttpClient::onConnected);
        m_socket->connectToHost(endpoint.address, endpoint.port);
        return;
    }
    auto *ssl = static_cast<QSslSocket *>(m_socket);
    QSslConfiguration configuration = ssl->sslConfiguration();
    configuration.setCaCertificates(endpoint.trustedCertificates);
    configuration.setPeerVerifyMode(QSslSocket::VerifyPeer);
    ssl->setSslConfiguration(configuration);
    // Queued writes go once the handshake is done, not at TCP connect.
    connect(ssl, &QSslSocket::encrypted, this, &TestHttpClient::onConnected);
    connect(ssl, &QSslSocket::sslErrors, this, [this](const QList<QSslError> &errors) {
        for (const QSslError &error : errors) {
            m_tlsError += error.errorString() + u'\n';
        }
    });
    connect(ssl, &QAbstractSocket::errorOccurred, this, [this, ssl](QAbstractSocket::SocketError error) {
        if (error == QAbstractSocket::SslHandshakeFailedError || error == QAbstractSocket::SslInternalError) {
            m_tlsError += ssl->errorString() + u'\n';
        }
    });
    ssl->connectToHostEncrypted(endpoint.address.toString(), endpoint.port, endpoint.verifyName);
}

TestHttpClient::~TestHttpClient() = default;

bool TestHttpClient::waitForConnected(int timeoutMs)
{
    return QTest::qWaitFor([this] { return isConnected(); }, timeoutMs);
}

bool TestHttpClient::isConnected() const
{
    return m_socket->state() == QAbstractSocket::ConnectedState &&
           (!m_tls || static_cast<const QSslSocket *>(m_socket)->isEncrypted());
}

bool TestHttpClient::waitForDisconnected(int timeoutMs)
{
    return QTest::qWaitFor([this] { return m_socket->state() == QAbstractSocket::UnconnectedState; }, timeoutMs);
}

void TestHttpClient::close()
{
    m_pendingWrites.clear();
    m_eofSent = true; // our own abort must not complete a close-delimited body
    m_socket->abort();
}

quint16 TestHttpClient::localPort() const
{
    return m_socket->localPort();
}

void TestHttpClient::send(const QByteArray &raw)
{
    if (isConnected()) {
        m_socket->write(raw);
        m_socket->flush();
    } else {
        m_pendingWrites.append(raw);
    }
}

void TestHttpClient::post(const QByteArray &path, const QByteArray &jsonBody, const HeaderList &extra)
{
    request("POST", path, jsonBody, extra);
}

void TestHttpClient::get(const QByteArray &path, const HeaderList &extra)
{
    request("GET", path, {}, extra);
}

void TestHttpClient::request(const QByteArray &method, const QByteArray &path, const QByteArray &body,
                             const HeaderList &extra)
{
    const auto overridden = [&extra](QByteArrayView name) {
        for (const auto &header : extra) {
            if (header.name.toLower() == name) {
                return true;
            }
        }
        return false;
    };
    QByteArray raw = method + ' ' + path + " HTTP/1.1\r\n";
    if (!overridden("host")) {
        raw += "Host: 127.0.0.1:" + QByteArray::number(m_port) + "\r\n";
    }
    if (!body.isEmpty() || method == "POST" || method == "PUT") {
        if (!overridden("content-type")) {
            raw += "Content-Type: application/json\r\n";
        }
        if (!overridden("content-length") && !overridden("transfer-encoding")) {
            raw += "Content-Length: " + QByteArray::number(body.size()) + "\r\n";
        }
    }
    if (!overridden("connection")) {
        raw += "Connection: keep-alive\r\n";
    }
    for (const auto &header : extra) {
        raw += header.name + ": " + header.value + "\r\n";
    }
    raw += "\r\n";
    raw += body;
    m_methods.enqueue(method);
    send(raw);
}

bool TestHttpClient::waitForResponses(int count, int timeoutMs)
{
    return QTest::qWaitFor([this, count] { return m_responses.size() >= count; }, timeoutMs);
}

void TestHttpClient::onConnected()
{
    if (!m_pendingWrites.isEmpty()) {
        m_socket->write(m_pendingWrites);
        m_pendingWrites.clear();
        m_socket->flush();
    }
}

void TestHttpClient::onReadyRead()
{
    if (!m_socket->isReadable()) {
        return; // after close(): the device is already shut
    }
    const QByteArray data = m_socket->readAll();
    feed(data.constData(), data.size());
}

void TestHttpClient::onDisconnected()
{
    onReadyRead();
    if (!m_eofSent) {
        m_eofSent = true;
        feed(nullptr, 0); // EOF: completes a close-delimited body
    }
}

void TestHttpClient::feed(const char *data, qsizetype size)
{
    if (!m_parseError.isEmpty()) {
        return;
    }
    if (size == 0 && data != nullptr) {
        return; // an empty read is not EOF to http_parser's eyes
    }
    http_parser &parser = m_parser->parser;
    const std::size_t length = static_cast<std::size_t>(size);
    const std::size_t parsed = http_parser_execute(&parser, &m_parser->settings, data, length);
    const auto error = static_cast<http_errno>(parser.http_errno);
    if (error != HPE_OK) {
        m_parseError = QByteArray(http_errno_name(error)) + ": " + http_errno_description(error);
    } else if (parsed != length) {
        m_parseError = "parser stopped early";
    }
}

QJsonObject errorOf(const TestHttpClient::Response &response)
{
    return QJsonDocument::fromJson(response.body).object().value(QStringLiteral("error")).toObject();
}

quint16 closedPort()
{
    QTcpServer server;
    if (!server.listen(QHostAddress::LocalHost, 0)) {
        qFatal("cannot bind a port on 127.0.0.1");
    }
    return server.serverPort(); // closed again when `server` goes out of scope
}

} // namespace TestSupport
