// The cost of the upstream side alone: a closed-loop libcurl multi client with the same
// options the gateway uses (keep-alive POSTs of a small chat request), nothing else. Run
// on the proxy's core, its request rate is the ceiling for any proxy whose upstream side
// is libcurl, which puts the gateway/nginx ratio into perspective.
//
//   switchyard-curl-ceiling URL CONCURRENCY SECONDS
#include <curl/curl.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>

namespace {

size_t discard(char *, size_t size, size_t count, void *)
{
    return size * count;
}

} // namespace

int main(int argc, char **argv)
{
    if (argc != 4) {
        std::fprintf(stderr, "usage: %s URL CONCURRENCY SECONDS\n", argv[0]);
        return 64;
    }
    const char *url = argv[1];
    const int concurrency = std::atoi(argv[2]);
    const double seconds = std::atof(argv[3]);
    const char *body = R"({"model":"bench","messages":[{"role":"user","content":"Hello"}]})";

    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURLM *multi = curl_multi_init();
    curl_slist *headers = curl_slist_append(nullptr, "Content-Type: application/json");
    headers = curl_slist_append(headers, "Expect:");
    for (int i = 0; i < concurrency; ++i) {
        CURL *easy = curl_easy_init();
        curl_easy_setopt(easy, CURLOPT_URL, url);
        curl_easy_setopt(easy, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &discard);
        curl_easy_setopt(easy, CURLOPT_PROXY, "");
        curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
        curl_multi_add_handle(multi, easy);
    }
    long completed = 0;
    long failed = 0;
    const auto start = std::chrono::steady_clock::now();
    while (std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() < seconds) {
        int running = 0;
        curl_multi_perform(multi, &running);
        int left = 0;
        while (CURLMsg *message = curl_multi_info_read(multi, &left)) {
            if (message->msg != CURLMSG_DONE) {
                continue;
            }
            CURL *easy = message->easy_handle;
            failed += message->data.result == CURLE_OK ? 0 : 1;
            curl_multi_remove_handle(multi, easy);
            ++completed;
            curl_multi_add_handle(multi, easy); // the same request again, on a pooled connection
        }
        curl_multi_poll(multi, nullptr, 0, 100, nullptr);
    }
    std::printf("{\"mode\":\"curl-ceiling\",\"achieved_rps\":%.1f,\"requests\":%ld,\"errors\":%ld}\n",
                static_cast<double>(completed) / seconds, completed, failed);
    return failed == 0 ? 0 : 1;
}
