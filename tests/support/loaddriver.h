#pragma once

#include "testhttpclient.h"

#include <QByteArray>
#include <QList>

#include <functional>
#include <memory>
#include <vector>

namespace TestSupport {

// Closed-loop load for integration tests: `clients` keep-alive connections, each sending
// its next request as soon as the previous answer arrived, until `total` requests were
// answered. Waiting processes events; nothing sleeps.
class LoadDriver final {
public:
    struct Request {
        QByteArray body;
        TestHttpClient::HeaderList headers;
    };
    // Builds request number `index` (0-based, in sending order).
    using RequestFactory = std::function<Request(int index)>;

    LoadDriver(quint16 port, int clients);
    ~LoadDriver();

    // Sends `total` requests to `path`; returns the responses in completion order, or an
    // empty list if they did not all arrive within `timeoutMs`.
    // `latenciesMs`, when given, receives each request's send-to-answer time, in the same
    // order as the responses.
    QList<TestHttpClient::Response> run(const QByteArray &path, int total, const RequestFactory &factory,
                                        int timeoutMs = 30000, std::vector<double> *latenciesMs = nullptr);

private:
    quint16 m_port;
    std::vector<std::unique_ptr<TestHttpClient>> m_clients;
};

} // namespace TestSupport
