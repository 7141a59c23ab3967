#include "hedgeattempt.h"

namespace Gateway::Proxy {

HedgeAttempt::HedgeAttempt(AttemptRun run, qsizetype maxBodyBytes, Completed completed)
    : m_run {run}
    , m_maxBodyBytes {maxBodyBytes}
    , m_completed {std::move(completed)}
{
}

HedgeAttempt::~HedgeAttempt() = default;

void HedgeAttempt::start(Upstream::CurlMulti &curl, Upstream::UpstreamRequest &&request)
{
    m_transfer = curl.start(std::move(request), *this);
}

void HedgeAttempt::cancel()
{
    m_transfer.reset();
}

void HedgeAttempt::onResponseHead(int status, const Http::HeaderList &headers)
{
    m_status = status;
    m_headers = headers;
}

bool HedgeAttempt::onResponseData(QByteArrayView data)
{
    if (!m_run.sawBody) {
        m_run.sawBody = true;
        m_run.ttftMs = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - m_run.startedAt).count();
    }
    if (m_body.size() + data.size() > m_maxBodyBytes) {
        return false; // ends the transfer as Aborted, like the main attempt's limit
    }
    m_body.append(data.data(), data.size());
    return true;
}

void HedgeAttempt::onComplete(const Upstream::TransferResult &result)
{
    m_result = result;
    m_transfer.reset();
    m_completed(*this);
}

} // namespace Gateway::Proxy
