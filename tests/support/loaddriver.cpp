#include "loaddriver.h"

#include <QElapsedTimer>
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
                                                int timeoutMs, std::vector<double> *latenciesMs)
{
    std::vector<QElapsedTimer> sentAt(m_clients.size());
    QList<TestHttpClient::Response> responses;
    int sent = 0;
    QEventLoop loop;
    std::vector<QMetaObject::Connection> connections;
    const auto sendNext = [&](TestHttpClient &client, std::size_t slot) {
        if (sent >= total) {
            return;
        }
        sentAt[slot].start();
        const Request request = factory(sent++);
        client.post(path, request.body, request.headers);
    };
    for (std::size_t slot = 0; slot < m_clients.size(); ++slot) {
        TestHttpClient *raw = m_clients[slot].get();
        connections.push_back(QObject::connect(raw, &TestHttpClient::responseComplete, &loop, [&, raw, slot] {
            responses.push_back(raw->currentResponse());
            if (latenciesMs) {
                latenciesMs->push_back(static_cast<double>(sentAt[slot].nsecsElapsed()) / 1e6);
            }
            if (responses.size() >= total) {
                loop.quit();
                return;
            }
            sendNext(*raw, slot);
        }));
    }
    for (std::size_t slot = 0; slot < m_clients.size(); ++slot) {
        sendNext(*m_clients[slot], slot);
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
