#pragma once

#include <QByteArray>

#include <sys/socket.h>

#include <chrono>
#include <memory>
#include <vector>

namespace Gateway::Upstream {

// One socket address to connect to.
struct Address {
    sockaddr_storage storage {};
    socklen_t length = 0;
};

// The addresses of one host name for the built-in client: getaddrinfo() runs on a helper
// thread (it blocks, the worker must not), and its answer is kept for DNS_CACHE_TTL.
// Used by one worker thread; only the helper thread's hand-over is locked.
class HostResolver final {
public:
    HostResolver(QByteArray host, quint16 port);
    ~HostResolver();
    HostResolver(const HostResolver &) = delete;
    HostResolver &operator=(const HostResolver &) = delete;

    // Takes a finished lookup's answer into `addresses` (a failed one keeps what was
    // there) and starts a lookup when there is no answer or it is stale. Until the first
    // answer arrives `addresses` stays empty.
    void refresh(std::vector<Address> &addresses);

private:
    struct Job;

    QByteArray m_host;
    quint16 m_port;
    std::chrono::steady_clock::time_point m_resolvedAt;
    std::shared_ptr<Job> m_job;
};

} // namespace Gateway::Upstream
