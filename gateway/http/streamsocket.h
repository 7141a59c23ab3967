#pragma once

#include <QByteArray>
#include <QHostAddress>
#include <QObject>

#include <memory>

class QSocketNotifier;

namespace Gateway::Http {

class TlsContext;
class TlsSession;

// A connected, non-blocking TCP socket driven by this thread's Qt event loop through two
// QSocketNotifiers: what QTcpSocket does for an accepted client connection, without
// what the gateway does not need (asking the kernel how much is readable before every
// read, a ring buffer between the kernel and the parser, signals per chunk). Reads land
// directly in one QByteArray; writes are gathered until flush(), so a whole response
// usually leaves in one send(). With startServerTls() the same descriptor carries TLS:
// reads are decrypted before they reach the input buffer and writes are encrypted as
// they are queued (TlsSession, OpenSSL over memory buffers), so nothing above the socket
// changes.
class StreamSocket final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(StreamSocket)

public:
    // Takes ownership of the descriptor.
    StreamSocket(qintptr descriptor, QObject *parent);
    ~StreamSocket() override;

    // The connection speaks TLS (server side) from its first byte. Call before reading.
    void startServerTls(std::shared_ptr<const TlsContext> context);

    bool isConnected() const { return m_descriptor >= 0 && !m_closing; }
    QHostAddress peerAddress() const { return m_peerAddress; }
    quint16 peerPort() const { return m_peerPort; }

    // Stop reading from the kernel while this much is buffered and unread: a client that
    // floods or pipelines cannot make the connection hold more.
    void setReadBufferSize(qint64 bytes) { m_readLimit = bytes; }
    qint64 bytesAvailable() const { return m_input.size(); }
    QByteArray readAll();

    // Queues bytes; they leave on flush() or, at the latest, on the next loop turn.
    void write(QByteArrayView data);
    // Sends what it can now, without blocking; the rest goes when the socket is writable.
    void flush();
    qint64 bytesToWrite() const { return m_output.size() - m_outputOffset; }

    // Closes once everything queued has been sent.
    void disconnectFromHost();
    // Closes at once, dropping unsent bytes.
    void abort();

Q_SIGNALS:
    void readyRead();
    void bytesWritten(qint64 bytes);
    void disconnected();

private:
    void onReadable();
    void onWritable();
    void closeNow();
    void updateReadInterest();
    // False when TLS refused the bytes and the connection is closing.
    bool received(const char *data, qsizetype size);
    // Ciphertext (or, without TLS, the bytes themselves) for the descriptor.
    void queueRaw(QByteArrayView data);

    int m_descriptor;
    QSocketNotifier *m_readNotifier;
    QSocketNotifier *m_writeNotifier;
    QHostAddress m_peerAddress;
    quint16 m_peerPort = 0;
    QByteArray m_input;
    QByteArray m_output;
    qsizetype m_outputOffset = 0; // sent part of m_output, compacted when all is sent
    qint64 m_readLimit = 0;       // 0 = unbounded
    bool m_closing = false;
    bool m_peerClosed = false;
    std::unique_ptr<TlsSession> m_tls;
};

} // namespace Gateway::Http
