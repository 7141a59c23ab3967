#pragma once

#include "behaviour.h"
#include "flavor.h"
#include "http/request.h"

#include <QByteArray>
#include <QHash>
#include <QList>
#include <QMutex>
#include <QSet>
#include <QString>

#include <atomic>
#include <deque>
#include <random>
#include <unordered_set>
#include <vector>

namespace Gateway::Sim {

class SimHandler;

// Readable from any thread; written by the server's worker thread.
struct SimCounters {
    std::atomic<int> requestsReceived {0}; // inference requests only
    std::atomic<int> metricsScrapes {0};
    std::atomic<int> connectionsAccepted {0};
    std::atomic<int> streamsCompleted {0};
    std::atomic<int> streamsCancelled {0};  // the client went away mid-stream
    std::atomic<int> streamsReset {0};      // we aborted on purpose (resetAfterChunks)
    std::atomic<int> failuresInjected {0};  // answered errorStatus (failNextRequests, errorRate)
    std::atomic<int> requestsCancelled {0}; // any generation the client abandoned
    std::atomic<int> heldStreams {0};
    std::atomic<int> inFlight {0};
    std::atomic<qint64> tokensHeld {0};
    std::atomic<qint64> promptTokensTotal {0};
    std::atomic<qint64> generationTokensTotal {0};
    std::atomic<qint64> prefixQueriesTotal {0};
    std::atomic<qint64> prefixHitsTotal {0};
    std::atomic<quint64> releaseEpoch {0}; // bumped by every releaseHeldStreams()
    std::atomic<quint64> nextId {1};
};

// The state a simulated upstream shares between its owner's thread and the server's
// worker thread: behaviour, randomness, the record of what was received, counters.
class SimState final {
public:
    SimState(QString name, Flavor flavor);
    SimState(const SimState &) = delete;
    SimState &operator=(const SimState &) = delete;

    const QString &name() const { return m_name; }
    const QByteArray &nameHeader() const { return m_nameHeader; }
    Flavor flavor() const { return m_flavor; }
    SimCounters &counters() { return m_counters; }
    const SimCounters &counters() const { return m_counters; }

    void setBehaviour(const Behaviour &behaviour);
    Behaviour behaviour() const;
    void setSeed(quint32 seed);
    void setModels(const QList<QByteArray> &models);
    QList<QByteArray> models() const;

    enum class Verdict { Serve, Fail, RateLimit, Unauthorized };
    struct Admission {
        Verdict verdict = Verdict::Serve;
        Behaviour behaviour;
    };
    // Records an inference request (body, headers, count) and decides whether it fails.
    Admission admit(const Http::Request &request);
    // Inference requests that presented this API key.
    int requestsWithKey(const QByteArray &key) const;
    // Counts a connection the first time a request arrives from its peer address:port.
    void noteConnection(const Http::Request &request);
    // Feeds the simulated prefix cache and the token counters.
    void recordPrompt(quint64 prefixHash, int prefixTokens, int promptTokens);

    QByteArray lastRequestBody() const;
    Http::HeaderList lastRequestHeaders() const;

    QByteArray metricsText() const;

    void registerHandler(SimHandler *handler);
    void unregisterHandler(SimHandler *handler);
    void releaseHeldStreams();
    // releaseHeldStreams() in two steps, so that several upstreams can be released as
    // one: every epoch first, then the resumes (see SimulatedUpstream::releaseTogether).
    void bumpReleaseEpoch();
    void resumeHeldStreams();

private:
    const QString m_name;
    const QByteArray m_nameHeader;
    const Flavor m_flavor;
    SimCounters m_counters;

    mutable QMutex m_mutex;
    Behaviour m_behaviour;                   // guarded by m_mutex
    QHash<QByteArray, int> m_requestsByKey;  // guarded by m_mutex
    std::mt19937 m_rng;                      // guarded by m_mutex
    QList<QByteArray> m_models;              // guarded by m_mutex
    QByteArray m_lastBody;                   // guarded by m_mutex
    Http::HeaderList m_lastHeaders;          // guarded by m_mutex
    QSet<QString> m_peers;                   // guarded by m_mutex
    std::deque<quint64> m_prefixOrder;       // guarded by m_mutex
    std::unordered_set<quint64> m_prefixes;  // guarded by m_mutex
    std::vector<SimHandler *> m_handlers;    // guarded by m_mutex
};

} // namespace Gateway::Sim
