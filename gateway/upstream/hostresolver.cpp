#include "hostresolver.h"

#include <netdb.h>

#include <cstring>
#include <mutex>
#include <thread>

namespace Gateway::Upstream {

namespace {

// curl's default: a resolved host name is kept this long.
constexpr auto DNS_CACHE_TTL = std::chrono::seconds(60);

} // namespace

// A lookup on its helper thread; shared so that either side may go first.
struct HostResolver::Job {
    std::mutex mutex;
    bool done = false;
    std::vector<Address> addresses;
};

HostResolver::HostResolver(QByteArray host, quint16 port)
    : m_host {std::move(host)}
    , m_port {port}
{
}

HostResolver::~HostResolver() = default;

void HostResolver::refresh(std::vector<Address> &addresses)
{
    const auto now = std::chrono::steady_clock::now();
    if (m_job) {
        const std::lock_guard lock {m_job->mutex};
        if (m_job->done) {
            if (!m_job->addresses.empty()) {
                addresses = std::move(m_job->addresses);
            }
            m_resolvedAt = now;
            m_job.reset();
        }
    }
    const bool stale = addresses.empty() || now - m_resolvedAt > DNS_CACHE_TTL;
    if (!stale || m_job) {
        return;
    }
    auto job = std::make_shared<Job>();
    m_job = job;
    std::thread([job, host = m_host, port = QByteArray::number(m_port)] {
        addrinfo hints {};
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        addrinfo *result = nullptr;
        std::vector<Address> found;
        if (::getaddrinfo(host.constData(), port.constData(), &hints, &result) == 0) {
            for (addrinfo *entry = result; entry; entry = entry->ai_next) {
                if (entry->ai_addrlen <= sizeof(sockaddr_storage)) {
                    Address address;
                    std::memcpy(&address.storage, entry->ai_addr, entry->ai_addrlen);
                    address.length = static_cast<socklen_t>(entry->ai_addrlen);
                    found.push_back(address);
                }
            }
            ::freeaddrinfo(result);
        }
        const std::lock_guard lock {job->mutex};
        job->addresses = std::move(found);
        job->done = true;
    }).detach();
}

} // namespace Gateway::Upstream
