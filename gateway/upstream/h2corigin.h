#pragma once

#include "upstreamrequest.h"

#include <QByteArray>

#include <deque>

namespace Gateway::Upstream {

class Transfer;

// The h2c (HTTP/2 prior knowledge) transfers of one worker to one origin that are not in
// curl's hands yet.
//
// Why: curl (7.88) parks a transfer that waits for a multiplexed connection (PIPEWAIT)
// and wakes parked transfers one at a time, when another transfer ends or a SETTINGS
// frame changes the stream limit. Streams that last minutes would keep a burst parked
// for minutes. So the gateway lets at most one transfer per origin look for a connection
// at a time: it reuses a multiplexed connection at once (curl's pre-request callback runs
// before control comes back) or opens a new one; the next waits here until that one is
// connected, then goes to curl and finds the new connection. A burst of N streams thus
// needs ceil(N / streams per connection) connections and no waiting on other streams.
//
// curl 7.88 (Debian 12) also fails a transfer that reuses a connection with
// CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE set (CURLE_HTTP2, nothing sent); with
// CURL_HTTP_VERSION_2_0 it multiplexes onto the connection as it should, but would open a
// new connection with an HTTP/1.1 Upgrade. So a transfer expected to open a connection
// asks for prior knowledge and one expected to reuse asks for 2_0, by the counts below.
struct H2cOrigin {
    Transfer *opener = nullptr;    // in curl, connecting (or waiting for a connection)
    int connections = 0;           // connected by openers and believed open
    int streams = 0;               // transfers on those connections now
    // curl assumes 100 streams per connection until the server's SETTINGS frame has been
    // read, and a transfer beyond that opens another connection, which curl 7.88 does
    // with an HTTP/1.1 Upgrade that h2c servers refuse. A response head proves the
    // SETTINGS were read (a server sends them first); until one arrives, at most
    // STREAMS_BEFORE_SETTINGS streams are admitted per connection.
    static constexpr int STREAMS_BEFORE_SETTINGS = 100;
    bool settingsSeen = false;
    std::deque<Transfer *> waiting; // started, not given to curl yet, in order
    // The opener could not connect: transfers that were waiting when it failed end the
    // same way (a connection attempt each would only fail again, one after another).
    quint64 failUpTo = 0; // waiting transfers with a sequence number up to this one fail
    TransferResult failure;
};

} // namespace Gateway::Upstream
