#include "loaddriver.h"

#include <QDeadlineTimer>
#include <QEventLoop>
#include <QTimer>

namespace TestSupport {

LoadDriver::LoadDriver(quint16 port, int clients)
    : m_port {port}
{
    for (int i = 0; i < clients; ++i) {
        m_clients.push_back(std::make_unique<TestHttpClient>(port));
    }
}

LoadDriver::~LoadDriver() = default;

QList<TestHttpClient::Response> LoadDriver::run(const QByteArray &path, int total, const RequestFactory &factory,
                                                int timeoutMs)
{
    QList<TestHttpClient::Response> responses;
    int sent = 0;
    QEventLoop loop;
    std::vector<QMetaObject::Connection> connections;
    const auto sendNext = [&](TestHttpClient &client) {
        if (sent >= total) {
            return;
        }
        const Request request = factory(sent++);
        client.post(path, request.body, request.headers);
    };
    for (auto &client : m_clients) {
        TestHttpClient *raw = client.get();
        connections.push_back(QObject::connect(raw, &TestHttpClient::responseComplete, &loop, [&, raw] {
            responses.push_back(raw->currentResponse());
            if (responses.size() >= total) {
                loop.quit();
                return;
            }
            sendNext(*raw);
        }));
    }
    for (auto &client : m_clients) {
        sendNext(*client);
    }
    QTimer::singleShot(timeoutMs, &loop, &QEventLoop::quit);
    if (responses.size() < total) {
        loop.exec();
    }
    for (const auto &connection : connections) {
        QObject::disconnect(connection);
    }
    if (responses.size() < total) {
        return {};
    }
    return responses;
}

} // namespace TestSupport
