#pragma once

#include "adminservice.h"

#include "http/requesthandler.h"

#include <QObject>
#include <QPointer>

#include <functional>
#include <memory>

namespace Gateway::Admin {

// The HTTP side of /admin/v1/...: bearer-token check (constant time), routing, query
// parsing. Operations that touch the store are handed to the AdminService and answered
// asynchronously on this worker's thread; /admin/v1/state is answered from live status.
class AdminHandler final {
public:
    // `threadContext` lives on the worker thread that calls handle(); replies are
    // delivered through it. `stateJson` renders /admin/v1/state (thread-safe).
    // Answers POST /admin/v1/explain: where a request would go, and why (thread-safe).
    using Explainer = std::function<AdminReply(const Http::Request &request)>;

    AdminHandler(AdminService *service, QObject &threadContext, std::function<QByteArray()> stateJson,
                 Explainer explainer = {});

    // Who may use the admin API.
    struct Access {
        // SHA-256 of the admin token; empty means no token is set, and then the admin API
        // refuses everything (it is never open).
        QByteArray tokenDigest;
        // Peers other than loopback are refused (403) unless this is set
        // (gateway.admin_allow_remote).
        bool allowRemote = false;
    };

    std::unique_ptr<Http::Exchange> handle(Http::Request &&request, Http::ResponseWriter &writer, const Access &access,
                                           const QByteArray &requestId);

private:
    std::unique_ptr<Http::Exchange> dispatch(const Http::Request &request, Http::ResponseWriter &writer,
                                             const QByteArray &requestId);
    // Starts an asynchronous call; the returned exchange keeps the writer alive.
    std::unique_ptr<Http::Exchange> async(Http::ResponseWriter &writer, const QByteArray &requestId,
                                          const std::function<void(ReplyCallback)> &call);

    AdminService *m_service;
    QPointer<QObject> m_threadContext;
    std::function<QByteArray()> m_stateJson;
    Explainer m_explainer;
};

// Whether `presented` matches the token whose SHA-256 is `digest`, in time that does
// not depend on where they differ.
bool tokenMatches(QByteArrayView presented, const QByteArray &digest);

// Whether `peer` is this machine's loopback (127.0.0.0/8, ::1, or IPv4-mapped loopback).
bool isLoopbackPeer(const QHostAddress &peer);

} // namespace Gateway::Admin
