#pragma once

#include <QByteArray>
#include <QString>


namespace Gateway::Discovery {

// One discovered server: an IP address (no brackets) and the port it serves on.
struct ServerAddress {
    QString address;
    quint16 port = 0;

    // "10.0.0.5:8000" or "[fd00::5]:8000": the form in labels, events and the admin API.
    QString hostPort() const;

    bool operator==(const ServerAddress &) const = default;
    bool operator<(const ServerAddress &other) const
    {
        return address != other.address ? address < other.address : port < other.port;
    }
};

} // namespace Gateway::Discovery
