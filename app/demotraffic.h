#pragma once

#include "upstream/curlmulti.h"

#include <QList>
#include <QObject>
#include <QTimer>

#include <memory>
#include <random>
#include <vector>

namespace App {

// A few requests a second through the demo gateway, mixed streaming and not, OpenAI and
// Anthropic format, so the console shows live weights, latencies and failovers without
// anyone typing curl. Runs on the main thread's loop through the same non-blocking curl
// bridge the data plane uses.
class DemoTraffic final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(DemoTraffic)

public:
    // Each request presents one of `keys` (virtual keys), picked at random.
    DemoTraffic(QByteArray baseUrl, QList<QByteArray> keys, QObject *parent = nullptr);
    ~DemoTraffic() override;

    void start();
    void stop();

private:
    class Call;

    void sendOne();
    void finished(Call *call);

    QByteArray m_baseUrl;
    QList<QByteArray> m_keys;
    Gateway::Upstream::CurlMulti m_curl;
    QTimer m_timer;
    std::mt19937 m_random {2026};
    std::vector<std::unique_ptr<Call>> m_calls;
};

} // namespace App
