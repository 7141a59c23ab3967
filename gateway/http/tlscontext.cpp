#include "tlscontext.h"

#include <QFile>

#include <openssl/err.h>
#include <openssl/ssl.h>

namespace Gateway::Http {

namespace {

QString lastOpenSslError()
{
    const unsigned long code = ERR_get_error();
    ERR_clear_error();
    if (code == 0) {
        return QStringLiteral("unknown error");
    }
    char text[256];
    ERR_error_string_n(code, text, sizeof text);
    return QString::fromLatin1(text);
}

} // namespace

Expected<std::shared_ptr<const TlsContext>, QString> TlsContext::fromPemFiles(const QString &certFile,
                                                                              const QString &keyFile)
{
    SSL_CTX *context = SSL_CTX_new(TLS_server_method());
    if (!context) {
        return Unexpected {QStringLiteral("TLS: cannot create a context: %1").arg(lastOpenSslError())};
    }
    std::shared_ptr<const TlsContext> owner {new TlsContext(context)};
    SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION);
    // Writes are handed over whole and may be retried from a moved buffer.
    SSL_CTX_set_mode(context, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_ENABLE_PARTIAL_WRITE);
    SSL_CTX_set_options(context, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    const QByteArray cert = QFile::encodeName(certFile);
    const QByteArray key = QFile::encodeName(keyFile);
    if (SSL_CTX_use_certificate_chain_file(context, cert.constData()) != 1) {
        return Unexpected {QStringLiteral("gateway.tls_cert_file: cannot load %1: %2").arg(certFile, lastOpenSslError())};
    }
    if (SSL_CTX_use_PrivateKey_file(context, key.constData(), SSL_FILETYPE_PEM) != 1) {
        return Unexpected {QStringLiteral("gateway.tls_key_file: cannot load %1: %2").arg(keyFile, lastOpenSslError())};
    }
    if (SSL_CTX_check_private_key(context) != 1) {
        return Unexpected {QStringLiteral("gateway.tls_key_file: %1 does not belong to the certificate in %2")
                               .arg(keyFile, certFile)};
    }
    return owner;
}

TlsContext::~TlsContext()
{
    SSL_CTX_free(m_context);
}

} // namespace Gateway::Http
