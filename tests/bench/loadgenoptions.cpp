#include "loadgenoptions.h"

#include <netdb.h>

#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string_view>

namespace Bench
{
    namespace
    {
        // A small OpenAI chat completion request; "bench" is the model the benchmark routes.
        constexpr std::string_view kDefaultBody =
            R"({"model":"bench","messages":[{"role":"user","content":"Say hello."}],"max_tokens":16})";

        constexpr int kMaxConnections = 4096;

        bool parseDouble(std::string_view text, double &out)
        {
            const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
            return ec == std::errc() && end == text.data() + text.size();
        }

        bool parseInt(std::string_view text, int &out)
        {
            const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
            return ec == std::errc() && end == text.data() + text.size();
        }

        bool startsWithIgnoreCase(std::string_view text, std::string_view prefix)
        {
            if (text.size() < prefix.size())
                return false;
            for (std::size_t i = 0; i < prefix.size(); ++i) {
                const auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; };
                if (lower(text[i]) != lower(prefix[i]))
                    return false;
            }
            return true;
        }

        bool parseUrl(std::string_view url, LoadgenOptions &options, std::string &error)
        {
            constexpr std::string_view scheme = "http://";
            if (url.substr(0, scheme.size()) != scheme) {
                error = "--url must start with http:// (TLS is out of scope for this tool)";
                return false;
            }
            url.remove_prefix(scheme.size());
            const std::size_t slash = url.find('/');
            const std::string_view authority = url.substr(0, slash);
            options.path = slash == std::string_view::npos ? "/" : std::string(url.substr(slash));
            std::string_view hostPart = authority;
            std::string_view portPart = "80";
            if (!authority.empty() && authority.front() == '[') {
                const std::size_t close = authority.find(']');
                if (close == std::string_view::npos) {
                    error = "bad IPv6 literal in --url";
                    return false;
                }
                hostPart = authority.substr(1, close - 1);
                if (close + 1 < authority.size() && authority[close + 1] == ':')
                    portPart = authority.substr(close + 2);
            } else if (const std::size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
                hostPart = authority.substr(0, colon);
                portPart = authority.substr(colon + 1);
            }
            if (hostPart.empty() || portPart.empty()) {
                error = "--url needs a host and port";
                return false;
            }
            options.host = std::string(hostPart);
            options.port = std::string(portPart);

            addrinfo hints {};
            hints.ai_family = AF_UNSPEC;
            hints.ai_socktype = SOCK_STREAM;
            addrinfo *found = nullptr;
            if (const int rc = getaddrinfo(options.host.c_str(), options.port.c_str(), &hints, &found); rc != 0) {
                error = std::string("cannot resolve ") + options.host + ": " + gai_strerror(rc);
                return false;
            }
            std::memcpy(&options.address, found->ai_addr, found->ai_addrlen);
            options.addressLength = found->ai_addrlen;
            freeaddrinfo(found);
            return true;
        }

        bool hasHeader(const std::vector<std::string> &headers, std::string_view name)
        {
            for (const std::string &h : headers) {
                if (startsWithIgnoreCase(h, name) && h.size() > name.size() && h[name.size()] == ':')
                    return true;
            }
            return false;
        }

        std::string buildRequest(const LoadgenOptions &options)
        {
            std::string head = "POST " + options.path + " HTTP/1.1\r\n";
            if (!hasHeader(options.headers, "host")) {
                const bool ipv6 = options.host.find(':') != std::string::npos;
                head += "Host: " + (ipv6 ? "[" + options.host + "]" : options.host) + ":" + options.port + "\r\n";
            }
            if (!hasHeader(options.headers, "user-agent"))
                head += "User-Agent: switchyard-loadgen\r\n";
            if (!hasHeader(options.headers, "content-type"))
                head += "Content-Type: application/json\r\n";
            for (const std::string &h : options.headers)
                head += h + "\r\n";
            head += "Content-Length: " + std::to_string(options.body.size()) + "\r\n\r\n";
            return head + options.body;
        }
    }

    const char *loadgenUsage()
    {
        return "usage: switchyard-loadgen --url http://HOST:PORT/PATH (--rate R | --closed) [options]\n"
               "  --rate R           open loop: send at fixed 1/R intervals; latency counts from the\n"
               "                     scheduled send time, so server stalls are not hidden\n"
               "  --closed           closed loop: each connection sends again as soon as a response ends\n"
               "  --connections C    keep-alive connections (default 32)\n"
               "  --duration S       measured seconds (default 5)\n"
               "  --warmup S         unmeasured seconds before that (default 1)\n"
               "  --drain S          seconds to wait for in-flight requests at the end (default 2)\n"
               "  --body FILE        POST body (default: a small chat completion for model \"bench\")\n"
               "  --header 'K: V'    extra request header, repeatable\n"
               "  --cpu N            pin the load generator to CPU N\n"
               "Prints one JSON line with throughput, error counts and latency percentiles.\n";
    }

    std::optional<LoadgenOptions> parseLoadgenOptions(int argc, char **argv, std::string &error)
    {
        LoadgenOptions options;
        options.body = std::string(kDefaultBody);
        bool haveRate = false;
        bool haveClosed = false;
        std::string url;

        for (int i = 1; i < argc; ++i) {
            const std::string_view arg = argv[i];
            if (arg == "--help" || arg == "-h") {
                error.clear();
                return std::nullopt;
            }
            if (arg == "--closed") {
                haveClosed = true;
                continue;
            }
            if (i + 1 >= argc) {
                error = std::string("missing value for ") + std::string(arg);
                return std::nullopt;
            }
            const std::string_view value = argv[++i];
            bool ok = true;
            if (arg == "--rate") {
                ok = parseDouble(value, options.rate) && options.rate > 0;
                haveRate = true;
            } else if (arg == "--connections") {
                ok = parseInt(value, options.connections) && options.connections > 0
                     && options.connections <= kMaxConnections;
            } else if (arg == "--duration") {
                ok = parseDouble(value, options.durationSeconds) && options.durationSeconds > 0;
            } else if (arg == "--warmup") {
                ok = parseDouble(value, options.warmupSeconds) && options.warmupSeconds >= 0;
            } else if (arg == "--drain") {
                ok = parseDouble(value, options.drainSeconds) && options.drainSeconds >= 0;
            } else if (arg == "--cpu") {
                ok = parseInt(value, options.cpu) && options.cpu >= 0;
            } else if (arg == "--url") {
                url = std::string(value);
            } else if (arg == "--header") {
                ok = value.find(':') != std::string_view::npos
                     && value.find_first_of("\r\n") == std::string_view::npos;
                options.headers.emplace_back(value);
            } else if (arg == "--body") {
                std::ifstream in {std::string(value), std::ios::binary};
                std::ostringstream content;
                content << in.rdbuf();
                ok = in.good() || in.eof();
                if (!ok) {
                    error = std::string("cannot read --body file ") + std::string(value);
                    return std::nullopt;
                }
                options.body = content.str();
            } else {
                error = std::string("unknown option ") + std::string(arg);
                return std::nullopt;
            }
            if (!ok) {
                error = std::string("bad value for ") + std::string(arg) + ": " + std::string(value);
                return std::nullopt;
            }
        }

        if (haveRate == haveClosed) {
            error = "give exactly one of --rate R or --closed";
            return std::nullopt;
        }
        options.mode = haveClosed ? LoadgenOptions::Mode::ClosedLoop : LoadgenOptions::Mode::OpenLoop;
        if (url.empty()) {
            error = "--url is required";
            return std::nullopt;
        }
        if (!parseUrl(url, options, error))
            return std::nullopt;
        options.request = buildRequest(options);
        return options;
    }
}
