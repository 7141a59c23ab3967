#include "tlssession.h"

#include "tlscontext.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

namespace Gateway::Http {

namespace {

constexpr qsizetype CHUNK = 16 * 1024;
constexpr char TLS_HANDSHAKE_RECORD = 0x16;

// What a plaintext client gets from the TLS port (the 497 case of other servers, sent as
// a plain 400 so any HTTP client shows it).
QByteArray plainHttpRefusal()
{
    const QByteArray body = R"({"error":{"message":"this port speaks HTTPS only; use https://","type":"invalid_request_error","param":null,"code":"tls_required"}})";
    return "HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\nconnection: close\r\ncontent-length: " +
           QByteArray::number(body.size()) + "\r\n\r\n" + body;
}

} // namespace

TlsSession::TlsSession(std::shared_ptr<const TlsContext> context)
    : m_context {std::move(context)}
    , m_ssl {SSL_new(m_context->native())}
{
    BIO *input = BIO_new(BIO_s_mem());
    BIO *output = BIO_new(BIO_s_mem());
    // An empty input buffer means "more later", not end of stream.
    BIO_set_mem_eof_return(input, -1);
    SSL_set_bio(m_ssl, input, output); // the SSL object owns both
    SSL_set_accept_state(m_ssl);
}

TlsSession::~TlsSession()
{
    SSL_free(m_ssl);
}

bool TlsSession::handshakeDone() const
{
    return SSL_is_init_finished(m_ssl) == 1;
}

bool TlsSession::hasOutput() const
{
    return !m_output.isEmpty() || BIO_ctrl_pending(SSL_get_wbio(m_ssl)) > 0;
}

TlsSession::Status TlsSession::receive(QByteArrayView ciphertext, QByteArray &plaintext)
{
    if (m_failed) {
        return Status::Failed;
    }
    if (ciphertext.isEmpty()) {
        return Status::Ok;
    }
    if (!m_sawInput) {
        m_sawInput = true;
        if (ciphertext.front() != TLS_HANDSHAKE_RECORD) {
            m_failed = true;
            m_failure = "not a TLS client hello (plaintext HTTP on the TLS port?)";
            m_output = plainHttpRefusal();
            return Status::PlainHttp;
        }
    }
    BIO_write(SSL_get_rbio(m_ssl), ciphertext.data(), static_cast<int>(ciphertext.size()));
    char chunk[CHUNK];
    for (;;) {
        const int n = SSL_read(m_ssl, chunk, static_cast<int>(CHUNK));
        if (n > 0) {
            plaintext.append(chunk, n);
            continue;
        }
        const int error = SSL_get_error(m_ssl, n);
        if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE || error == SSL_ERROR_ZERO_RETURN) {
            break; // needs more bytes, or the peer sent close_notify (its EOF follows)
        }
        m_failed = true;
        const unsigned long code = ERR_get_error();
        char text[256] = "TLS protocol error";
        if (code != 0) {
            ERR_error_string_n(code, text, sizeof text);
        }
        ERR_clear_error();
        m_failure = text;
        drainOutput(); // the alert, if OpenSSL produced one
        return Status::Failed;
    }
    flushPendingPlaintext();
    drainOutput();
    return Status::Ok;
}

void TlsSession::send(QByteArrayView plaintext)
{
    if (m_failed || plaintext.isEmpty()) {
        return;
    }
    if (!handshakeDone() || !m_pendingPlaintext.isEmpty()) {
        m_pendingPlaintext.append(plaintext.data(), plaintext.size());
        flushPendingPlaintext();
        return;
    }
    qsizetype offset = 0;
    while (offset < plaintext.size()) {
        const int n = SSL_write(m_ssl, plaintext.data() + offset, static_cast<int>(plaintext.size() - offset));
        if (n <= 0) {
            // Memory BIOs never refuse a write; only a broken session gets here.
            m_failed = true;
            ERR_clear_error();
            break;
        }
        offset += n;
    }
    drainOutput();
}

void TlsSession::flushPendingPlaintext()
{
    if (m_pendingPlaintext.isEmpty() || !handshakeDone()) {
        return;
    }
    const QByteArray pending = std::move(m_pendingPlaintext);
    m_pendingPlaintext = QByteArray();
    send(pending);
}

void TlsSession::shutdown()
{
    if (!m_failed && handshakeDone()) {
        SSL_shutdown(m_ssl); // queues close_notify; the peer's answer is not awaited
        ERR_clear_error();
        drainOutput();
    }
}

void TlsSession::drainOutput()
{
    BIO *output = SSL_get_wbio(m_ssl);
    char chunk[CHUNK];
    while (BIO_ctrl_pending(output) > 0) {
        const int n = BIO_read(output, chunk, static_cast<int>(CHUNK));
        if (n <= 0) {
            break;
        }
        m_output.append(chunk, n);
    }
}

QByteArray TlsSession::takeOutput()
{
    drainOutput();
    QByteArray output = std::move(m_output);
    m_output = QByteArray();
    return output;
}

} // namespace Gateway::Http
