#pragma once

#include <QHash>
#include <QString>

#include <cstdint>

namespace Gateway::Admission {

// Token-weighted fairness across the virtual keys of one priority class: start-time fair
// queuing (Goyal, Vin and Cheng, "Start-time Fair Queuing", SIGCOMM 1996), with a
// request's expected tokens as its length.
//
// Every key (flow) keeps the finish tag F of its latest request. A new request of cost c
// (tokens) from a key of weight w gets
//     start  S = max(V, F_key)
//     finish F_key = S + c / w
// and the queue serves the smallest start tag first. V, the virtual time, is the start
// tag of the request most recently let through. A key that sent many tokens has its tags
// far ahead of V, so its next request waits behind a key that sent few; a key that was
// idle starts again at V, so idleness earns no credit. While several keys are
// backlogged each receives tokens in proportion to its weight, within one request's
// cost (the SFQ fairness bound).
//
// Not thread-safe: the queue that owns it guards it.
class FairShare {
public:
    struct Tag {
        double start = 0.0;
        double finish = 0.0;
    };

    // The tags a request would get now; nothing changes until charge().
    Tag tagFor(const QString &key, std::int64_t tokens, double weight) const;
    // The request with `tag` was accepted (queued or let through at once).
    void charge(const QString &key, const Tag &tag);
    // A request with start tag `start` was let through: V moves up to it.
    void started(double start);

    double virtualTime() const { return m_virtualTime; }
    qsizetype trackedKeys() const { return m_finish.size(); }

private:
    // Keys whose finish tag is not ahead of V carry no information (max(V, F) = V): they
    // are dropped once this many keys are tracked, which bounds the table by the keys
    // with requests in the recent past, not by every key ever seen.
    static constexpr qsizetype PRUNE_ABOVE_KEYS = 256;

    void pruneIdleKeys();

    double m_virtualTime = 0.0;
    QHash<QString, double> m_finish;
};

} // namespace Gateway::Admission
