#pragma once

#include <sys/socket.h>

#include <optional>
#include <string>
#include <vector>

namespace Bench
{
    // Command line of switchyard-loadgen, validated, plus the request bytes it implies.
    // The request is built once here so the hot loop only ever writes a ready buffer.
    struct LoadgenOptions
    {
        enum class Mode { OpenLoop, ClosedLoop };

        Mode mode = Mode::ClosedLoop;
        double rate = 0;           // requests/s, open loop only
        int connections = 32;
        double durationSeconds = 5;
        double warmupSeconds = 1;
        double drainSeconds = 2;   // how long to wait for in-flight requests after the run
        int cpu = -1;              // -1: do not pin

        std::string host;
        std::string port;
        std::string path;
        sockaddr_storage address {};
        socklen_t addressLength = 0;

        std::string body;
        std::vector<std::string> headers;
        std::string request;       // full HTTP/1.1 request: head and body
    };

    // Returns the options, or nullopt with a message in `error` (empty error: --help was asked).
    std::optional<LoadgenOptions> parseLoadgenOptions(int argc, char **argv, std::string &error);
    const char *loadgenUsage();
}
