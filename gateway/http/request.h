#pragma once

#include <QByteArray>
#include <QHostAddress>

#include <vector>

namespace Gateway::Http {

struct Header {
    QByteArray name; // lower-case
    QByteArray value;
};

using HeaderList = std::vector<Header>;

// One parsed inbound HTTP/1.x request. Bodies are de-chunked.
struct Request {
    QByteArray method;
    QByteArray path;  // without the query string
    QByteArray query; // without the '?'
    HeaderList headers;
    QByteArray body;
    int versionMinor = 1;
    bool keepAlive = true;
    QHostAddress peer;
    quint16 peerPort = 0;

    // Value of the first header with this lower-case name, or a null QByteArray.
    QByteArray header(QByteArrayView lowerName) const;
};

} // namespace Gateway::Http
