#include "simulatedupstream.h"

#include "http/server.h"
#include "simhandler.h"
#include "simstate.h"

namespace Gateway::Sim {

SimulatedUpstream::SimulatedUpstream(QString name, Flavor flavor)
    : m_state {std::make_unique<SimState>(std::move(name), flavor)}
{
}

SimulatedUpstream::~SimulatedUpstream() = default;

Expected<quint16, QString> SimulatedUpstream::listen(quint16 port)
{
    if (m_server) {
        return Unexpected {QStringLiteral("%1: already listening").arg(m_state->name())};
    }
    SimState *state = m_state.get();
    // One worker thread is plenty for a fake backend and keeps its event order simple.
    m_server = std::make_unique<Http::Server>(
        m_state->name(), Http::ServerLimits {}, [state] { return std::make_unique<SimHandler>(*state); }, 1);
    auto bound = m_server->listen(QHostAddress::LocalHost, port);
    if (!bound) {
        m_server.reset();
    }
    return bound;
}

quint16 SimulatedUpstream::port() const
{
    return m_server ? m_server->port() : 0;
}

QByteArray SimulatedUpstream::baseUrl() const
{
    return "http://127.0.0.1:" + QByteArray::number(port()) + "/v1";
}

QString SimulatedUpstream::name() const
{
    return m_state->name();
}

Flavor SimulatedUpstream::flavor() const
{
    return m_state->flavor();
}

void SimulatedUpstream::setModels(const QList<QByteArray> &models)
{
    m_state->setModels(models);
}

QList<QByteArray> SimulatedUpstream::models() const
{
    return m_state->models();
}

void SimulatedUpstream::setBehaviour(const Behaviour &behaviour)
{
    m_state->setBehaviour(behaviour);
}

Behaviour SimulatedUpstream::behaviour() const
{
    return m_state->behaviour();
}

void SimulatedUpstream::setSeed(quint32 seed)
{
    m_state->setSeed(seed);
}

void SimulatedUpstream::releaseHeldStreams()
{
    m_state->releaseHeldStreams();
}

void SimulatedUpstream::releaseTogether(std::initializer_list<SimulatedUpstream *> upstreams)
{
    for (SimulatedUpstream *upstream : upstreams) {
        upstream->m_state->bumpReleaseEpoch();
    }
    for (SimulatedUpstream *upstream : upstreams) {
        upstream->m_state->resumeHeldStreams();
    }
}

int SimulatedUpstream::requestsWithKey(const QByteArray &key) const
{
    return m_state->requestsWithKey(key);
}

int SimulatedUpstream::requestsReceived() const
{
    return m_state->counters().requestsReceived.load(std::memory_order_relaxed);
}

int SimulatedUpstream::metricsScrapes() const
{
    return m_state->counters().metricsScrapes.load(std::memory_order_relaxed);
}

int SimulatedUpstream::connectionsAccepted() const
{
    return m_state->counters().connectionsAccepted.load(std::memory_order_relaxed);
}

int SimulatedUpstream::streamsCompleted() const
{
    return m_state->counters().streamsCompleted.load(std::memory_order_relaxed);
}

int SimulatedUpstream::streamsCancelled() const
{
    return m_state->counters().streamsCancelled.load(std::memory_order_relaxed);
}

int SimulatedUpstream::streamsReset() const
{
    return m_state->counters().streamsReset.load(std::memory_order_relaxed);
}

int SimulatedUpstream::failuresInjected() const
{
    return m_state->counters().failuresInjected.load(std::memory_order_relaxed);
}

int SimulatedUpstream::requestsCancelled() const
{
    return m_state->counters().requestsCancelled.load(std::memory_order_relaxed);
}

int SimulatedUpstream::heldStreams() const
{
    return m_state->counters().heldStreams.load(std::memory_order_relaxed);
}

int SimulatedUpstream::inFlight() const
{
    return m_state->counters().inFlight.load(std::memory_order_relaxed);
}

QByteArray SimulatedUpstream::lastRequestBody() const
{
    return m_state->lastRequestBody();
}

Http::HeaderList SimulatedUpstream::lastRequestHeaders() const
{
    return m_state->lastRequestHeaders();
}

} // namespace Gateway::Sim
