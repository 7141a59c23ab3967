#pragma once

#include "behaviour.h"
#include "flavor.h"
#include "http/request.h"
#include "util/expected.h"

#include <QByteArray>
#include <QList>
#include <QString>

#include <initializer_list>
#include <memory>

namespace Gateway::Http {
class Server;
}

namespace Gateway::Sim {

class SimState;

// A fake LLM server on 127.0.0.1: an OpenAI-compatible (vLLM) GPU server or an
// Anthropic-style cloud API. The --demo mode runs several as stand-in backends; tests
// use one as a controllable upstream. It serves on its own worker thread, so every
// method here may be called from any thread.
//
// Served: POST /v1/chat/completions, /v1/completions, /v1/embeddings, /v1/messages;
// GET /v1/models, /metrics (vLLM Prometheus names), /health.
class SimulatedUpstream final {
public:
    SimulatedUpstream(QString name, Flavor flavor);
    ~SimulatedUpstream();
    SimulatedUpstream(const SimulatedUpstream &) = delete;
    SimulatedUpstream &operator=(const SimulatedUpstream &) = delete;

    // Binds 127.0.0.1; port 0 picks a free port. Call once.
    Expected<quint16, QString> listen(quint16 port = 0);
    quint16 port() const;
    // "http://127.0.0.1:PORT/v1"
    QByteArray baseUrl() const;

    QString name() const;
    Flavor flavor() const;

    // Listed by /v1/models; the first is the metrics' model_name and the model of
    // requests that name none. Answers echo the model each request asked for.
    void setModels(const QList<QByteArray> &models);
    QList<QByteArray> models() const;

    // Applies to requests that start after the call.
    void setBehaviour(const Behaviour &behaviour);
    // The current behaviour, with failNextRequests already decremented by requests served.
    Behaviour behaviour() const;
    // Seeds the generator behind errorRate and rateLimitRate.
    void setSeed(quint32 seed);

    // Lets every stream stopped by holdStreamAfterChunks continue to its end.
    void releaseHeldStreams();
    // The same for several upstreams at once: a stream that one of them finishes can let
    // the gateway send a queued request to another before that one's own release, and
    // releasing them one by one would free that newcomer too.
    static void releaseTogether(std::initializer_list<SimulatedUpstream *> upstreams);

    // Counters, readable from any thread. Only inference requests (the POST endpoints)
    // count as requests and are recorded as "last request"; /metrics and /v1/models
    // polls do not disturb them.
    int requestsReceived() const;
    // Inference requests that presented this API key (bearer or x-api-key).
    int requestsWithKey(const QByteArray &key) const;
    int metricsScrapes() const;
    // Distinct client address:port pairs that sent at least one request.
    int connectionsAccepted() const;
    int streamsCompleted() const;
    // Streams whose client went away before the end: proof that a disconnect upstream
    // of us cancels the work here.
    int streamsCancelled() const;
    // Streams we aborted on purpose (resetAfterChunks).
    int streamsReset() const;
    // Requests answered with errorStatus on purpose (failNextRequests, errorRate).
    int failuresInjected() const;
    // Generations (streamed or not) abandoned by their client before the answer was done.
    int requestsCancelled() const;
    // Streams currently stopped at their hold point.
    int heldStreams() const;
    // Generations in progress; what num_requests_running reports.
    int inFlight() const;

    QByteArray lastRequestBody() const;
    Http::HeaderList lastRequestHeaders() const;

private:
    // Declared before the server: the server's handler and exchanges use the state until
    // the server has joined its thread, and members are destroyed in reverse order.
    std::unique_ptr<SimState> m_state;
    std::unique_ptr<Http::Server> m_server;
};

} // namespace Gateway::Sim
