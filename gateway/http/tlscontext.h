#pragma once

#include "util/expected.h"

#include <QString>

#include <memory>

struct ssl_ctx_st;

namespace Gateway::Http {

// The listener's TLS settings (gateway.tls_cert_file, gateway.tls_key_file): one OpenSSL
// server context, shared read-only by every connection of every worker (SSL_new on a
// context is thread-safe). TLS 1.2 or newer, the certificate chain from a PEM file and
// its private key, checked to belong together at start.
class TlsContext final {
public:
    static Expected<std::shared_ptr<const TlsContext>, QString> fromPemFiles(const QString &certFile,
                                                                             const QString &keyFile);
    ~TlsContext();
    TlsContext(const TlsContext &) = delete;
    TlsContext &operator=(const TlsContext &) = delete;

    ssl_ctx_st *native() const { return m_context; }

private:
    explicit TlsContext(ssl_ctx_st *context) : m_context {context} {}

    ssl_ctx_st *m_context;
};

} // namespace Gateway::Http
