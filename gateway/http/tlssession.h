#pragma once

#include <QByteArray>
#include <QByteArrayView>

#include <memory>

struct ssl_st;

namespace Gateway::Http {

class TlsContext;

// The server side of one TLS connection over memory buffers: StreamSocket keeps reading
// and writing the descriptor itself, and passes the bytes through this. Ciphertext from
// the client goes in with receive(), plaintext for the client with send(); whatever must
// reach the client (handshake records, encrypted data, alerts) accumulates in output().
// No I/O and no blocking: a handshake simply advances with each receive().
class TlsSession final {
public:
    explicit TlsSession(std::shared_ptr<const TlsContext> context);
    ~TlsSession();
    TlsSession(const TlsSession &) = delete;
    TlsSession &operator=(const TlsSession &) = delete;

    enum class Status { Ok, Failed, PlainHttp };
    // Decrypts what it can of `ciphertext`, appending the plaintext to `plaintext`.
    // Failed: the peer broke the protocol; send output() (an alert) and close.
    // PlainHttp: the first bytes were not a TLS record but (probably) a plaintext HTTP
    // request; output() then holds a plaintext 400 that says so, to send before closing.
    Status receive(QByteArrayView ciphertext, QByteArray &plaintext);
    // Encrypts `plaintext` (before the handshake completes it waits inside OpenSSL).
    void send(QByteArrayView plaintext);
    // Queues close_notify.
    void shutdown();

    // Bytes to send to the peer, taken.
    QByteArray takeOutput();
    bool hasOutput() const;
    bool handshakeDone() const;
    QByteArray failure() const { return m_failure; }

private:
    void drainOutput();
    void flushPendingPlaintext();

    std::shared_ptr<const TlsContext> m_context;
    ssl_st *m_ssl;
    QByteArray m_output;
    QByteArray m_pendingPlaintext; // written before the handshake finished
    QByteArray m_failure;
    bool m_failed = false;
    bool m_sawInput = false;
};

} // namespace Gateway::Http
