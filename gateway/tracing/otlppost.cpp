#include "otlppost.h"

#include <curl/curl.h>

#include <algorithm>

namespace Gateway::Tracing {

namespace {

// Connecting to a collector on the same host or network takes milliseconds; a longer
// wait means it is down, and the batch is better retried later.
constexpr long CONNECT_TIMEOUT_MS = 2000;
// How long one wait for socket activity lasts before the loop checks again.
constexpr int POLL_SLICE_MS = 100;
// Collector answers are small status objects; more is not kept.
constexpr std::size_t MAX_ANSWER_BYTES = 4096;

struct EasyDeleter {
    void operator()(CURL *easy) const { curl_easy_cleanup(easy); }
};
struct MultiDeleter {
    void operator()(CURLM *multi) const { curl_multi_cleanup(multi); }
};
struct ListDeleter {
    void operator()(curl_slist *list) const { curl_slist_free_all(list); }
};

struct CurlGlobal {
    CurlGlobal() { curl_global_init(CURL_GLOBAL_DEFAULT); }
};

std::size_t discardAnswer(char *, std::size_t size, std::size_t count, void *userdata)
{
    auto *kept = static_cast<std::size_t *>(userdata);
    *kept = std::min(MAX_ANSWER_BYTES, *kept + size * count);
    return size * count;
}

} // namespace

struct OtlpPost::Handles {
    std::unique_ptr<CURLM, MultiDeleter> multi;
    std::unique_ptr<CURL, EasyDeleter> easy;
    std::size_t answerBytes = 0;
};

OtlpPost::OtlpPost()
    : m_handles {std::make_unique<Handles>()}
{
    // curl_global_init must run once per process before any handle; the upstream client
    // does the same (the call is reference counted).
    static const CurlGlobal global;
    m_handles->multi.reset(curl_multi_init());
    m_handles->easy.reset(curl_easy_init());
}

OtlpPost::~OtlpPost() = default;

OtlpPost::Result OtlpPost::post(const QByteArray &url, const std::vector<std::pair<QByteArray, QByteArray>> &headers,
                                const QByteArray &body, int timeoutMs, const std::function<bool()> &abandon)
{
    Result result;
    CURLM *multi = m_handles->multi.get();
    CURL *easy = m_handles->easy.get();
    if (!multi || !easy) {
        result.errorText = "libcurl could not be initialised";
        return result;
    }
    std::unique_ptr<curl_slist, ListDeleter> lines;
    const auto addLine = [&lines](const QByteArray &line) {
        curl_slist *appended = curl_slist_append(lines.get(), line.constData());
        if (appended) {
            (void)lines.release();
            lines.reset(appended);
        }
    };
    addLine("Content-Type: application/json");
    addLine("Expect:"); // no 100-continue round trip for a large batch
    for (const auto &[name, value] : headers) {
        addLine(name + ": " + value);
    }
    curl_easy_reset(easy);
    curl_easy_setopt(easy, CURLOPT_URL, url.constData());
    curl_easy_setopt(easy, CURLOPT_POST, 1L);
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, body.constData());
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, lines.get());
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, std::min<long>(CONNECT_TIMEOUT_MS, timeoutMs));
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(std::max(1, timeoutMs)));
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    m_handles->answerBytes = 0;
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &discardAnswer);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, &m_handles->answerBytes);

    curl_multi_add_handle(multi, easy);
    int running = 1;
    CURLcode code = CURLE_OK;
    while (running > 0) {
        if (curl_multi_perform(multi, &running) != CURLM_OK) {
            code = CURLE_FAILED_INIT;
            break;
        }
        if (running > 0 && abandon && abandon()) {
            code = CURLE_ABORTED_BY_CALLBACK;
            break;
        }
        if (running > 0) {
            curl_multi_poll(multi, nullptr, 0, POLL_SLICE_MS, nullptr);
        }
    }
    int pending = 0;
    while (CURLMsg *message = curl_multi_info_read(multi, &pending)) {
        if (message->msg == CURLMSG_DONE && message->easy_handle == easy) {
            code = message->data.result;
        }
    }
    curl_multi_remove_handle(multi, easy);
    if (code != CURLE_OK) {
        result.errorText = curl_easy_strerror(code);
        return result;
    }
    long status = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    result.status = static_cast<int>(status);
    return result;
}

} // namespace Gateway::Tracing
