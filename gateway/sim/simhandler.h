#pragma once

#include "http/requesthandler.h"
#include "inferencerequest.h"

#include <QObject>

#include <vector>

namespace Gateway::Sim {

class GenerationExchange;
class SimState;

// Serves the simulated API on one worker thread: routes by path, applies the current
// Behaviour and hands timed work to a GenerationExchange.
class SimHandler final : public QObject, public Http::RequestHandler {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SimHandler)

public:
    explicit SimHandler(SimState &state);
    ~SimHandler() override;

    std::unique_ptr<Http::Exchange> handle(Http::Request &&request, Http::ResponseWriter &writer) override;

    // Streams stopped at their hold point, woken together by resumeHeldStreams().
    void hold(GenerationExchange *exchange);
    void forget(GenerationExchange *exchange);
    void resumeHeldStreams();

private:
    std::unique_ptr<Http::Exchange> serveInference(Endpoint endpoint, Http::Request &&request,
                                                   Http::ResponseWriter &writer);
    Http::HeaderList jsonHeaders() const;
    void respondError(Http::ResponseWriter &writer, bool anthropic, int status, QByteArrayView message) const;

    SimState &m_state;
    std::vector<GenerationExchange *> m_held;
};

} // namespace Gateway::Sim
