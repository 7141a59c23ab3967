#pragma once

#include "http/request.h"

#include <QByteArray>
#include <QHostAddress>
#include <QJsonObject>
#include <QList>
#include <QSslCertificate>
#include <QObject>
#include <QQueue>

#include <memory>
#include <utility>

class QTcpSocket;

namespace TestSupport {

// A deliberately simple HTTP/1.1 client for tests: one TCP connection to 127.0.0.1,
// raw bytes out (so tests can send malformed or smuggling requests), responses parsed
// incrementally with http_parser, including keep-alive sequences and pipelining.
// Lives on the test's thread; all waiting processes events, never sleeps blindly.
class TestHttpClient final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(TestHttpClient)

public:
    using HeaderList = Gateway::Http::HeaderList;

    struct Response {
        int status = 0;
        HeaderList headers; // names lower-cased
        QByteArray body;    // de-chunked

        // First header with this name (any case), or a null QByteArray.
        QByteArray header(QByteArrayView name) const;
        // The data payload of each SSE event in the body, multi-line data joined by '\n'.
        QList<QByteArray> sseDataLines() const;
        // The "event:" name of each SSE event (empty when an event has none).
        QList<QByteArray> sseEventNames() const;
    };

    // Where to connect, and whether to speak TLS (Qt's QSslSocket, trusting only
    // `trustedCertificates` and checking the certificate names `verifyName`).
    struct Endpoint {
        explicit Endpoint(quint16 port_, QHostAddress address_ = QHostAddress(QHostAddress::LocalHost))
            : port {port_}, address {std::move(address_)} {}

        quint16 port = 0;
        QHostAddress address;
        bool tls = false;
        QList<QSslCertificate> trustedCertificates;
        QString verifyName = QStringLiteral("127.0.0.1");
    };

    // Starts connecting at once; writes made before the connection is up are queued.
    explicit TestHttpClient(quint16 port, QObject *parent = nullptr);
    explicit TestHttpClient(const Endpoint &endpoint, QObject *parent = nullptr);
    ~TestHttpClient() override;

    bool waitForConnected(int timeoutMs = 5000);
    bool isConnected() const;
    bool waitForDisconnected(int timeoutMs = 5000);
    // Aborts the connection (RST-style), as a client that gives up would.
    void close();
    quint16 localPort() const;

    // Raw bytes. Responses to HEAD requests sent this way are not recognised.
    void send(const QByteArray &raw);
    // Well-formed HTTP/1.1 requests (Host, Content-Type, Content-Length, keep-alive);
    // headers in `extra` replace the defaults of the same name.
    void post(const QByteArray &path, const QByteArray &jsonBody, const HeaderList &extra = {});
    void get(const QByteArray &path, const HeaderList &extra = {});
    void request(const QByteArray &method, const QByteArray &path, const QByteArray &body,
                 const HeaderList &extra = {});

    // Complete responses so far, in order. Informational (1xx) responses are not listed.
    QList<Response> responses() const { return m_responses; }
    // Hands over the complete responses and forgets them (long-running load keeps no history).
    QList<Response> takeResponses() { return std::exchange(m_responses, {}); }
    bool waitForResponses(int count, int timeoutMs = 10000);
    // The response being received (or the last one once complete).
    const Response &currentResponse() const { return m_current; }
    QByteArray bodySoFar() const { return m_current.body; }
    int informationalResponses() const { return m_informational; }
    // Set when the response stream was not valid HTTP; parsing stops there.
    QByteArray parseError() const { return m_parseError; }
    // TLS only: the handshake or certificate errors seen, empty when none.
    QString tlsError() const { return m_tlsError; }

signals:
    void bodyData(const QByteArray &data);
    void responseComplete();

private:
    // http_parser state and callbacks, kept out of this header.
    struct Parser;

    void onConnected();
    void onReadyRead();
    void onDisconnected();
    void feed(const char *data, qsizetype size);

    QTcpSocket *m_socket;
    std::unique_ptr<Parser> m_parser;
    QQueue<QByteArray> m_methods; // of requests awaiting a response, to spot HEAD
    QByteArray m_pendingWrites;
    QList<Response> m_responses;
    Response m_current;
    QByteArray m_headerField;
    QByteArray m_headerValue;
    QByteArray m_parseError;
    QString m_tlsError;
    quint16 m_port;
    bool m_tls = false;
    int m_informational = 0;
    bool m_inHeaderValue = false;
    bool m_eofSent = false;
};

// The `error` object of an OpenAI- or Anthropic-shaped error body (empty when there is none).
QJsonObject errorOf(const TestHttpClient::Response &response);

// A port on 127.0.0.1 that was free a moment ago and is closed now: connecting is refused.
quint16 closedPort();

} // namespace TestSupport
