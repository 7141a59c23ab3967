#include "demotraffic.h"

#include <QPointer>

namespace App {

namespace {

constexpr int SEND_INTERVAL_MS = 250;
constexpr std::size_t MAX_CONCURRENT_CALLS = 12;

const char *const PROMPTS[] = {
    "Summarise the attached incident report in three bullet points.",
    "Write a SQL query that lists the ten largest customers by revenue last quarter.",
    "Explain the difference between prefill and decode in LLM inference, briefly.",
    "Translate 'the deployment is healthy' into French, German and Spanish.",
};

// The "documents" route's prompts: one of a few long documents (so later questions find
// it cached on a decode server) and a question about it.
QByteArray documentPrompt(std::uint32_t document, std::uint32_t question)
{
    QByteArray text = "Document " + QByteArray::number(document) + ". ";
    for (int paragraph = 0; paragraph < 60; ++paragraph) {
        text += "Section " + QByteArray::number(paragraph) + " of document " + QByteArray::number(document) +
                " describes the rollout plan, its risks, the owners and the checks before each stage. ";
    }
    return text + "Question " + QByteArray::number(question) + ": what are the risks of stage " + QByteArray::number(question % 7) + "?";
}

} // namespace

// One demo request in flight; its body is discarded.
class DemoTraffic::Call final : public Gateway::Upstream::TransferObserver {
public:
    explicit Call(DemoTraffic &owner) : m_owner {owner} {}

    std::unique_ptr<Gateway::Upstream::Transfer> transfer;

private:
    void onResponseHead(int, const Gateway::Http::HeaderList &) override {}
    bool onResponseData(QByteArrayView) override { return true; }
    void onComplete(const Gateway::Upstream::TransferResult &) override
    {
        // Leave the curl callback before the call (and its transfer) is destroyed.
        QMetaObject::invokeMethod(&m_owner, [owner = QPointer<DemoTraffic>(&m_owner), this] {
            if (owner) {
                owner->finished(this);
            }
        }, Qt::QueuedConnection);
    }

    DemoTraffic &m_owner;
};

DemoTraffic::DemoTraffic(QByteArray baseUrl, QList<QByteArray> keys, QObject *parent)
    : QObject {parent}
    , m_baseUrl {std::move(baseUrl)}
    , m_keys {std::move(keys)}
{
    m_timer.setInterval(SEND_INTERVAL_MS);
    connect(&m_timer, &QTimer::timeout, this, &DemoTraffic::sendOne);
}

DemoTraffic::~DemoTraffic()
{
    m_calls.clear(); // cancels transfers before the curl handle goes
}

void DemoTraffic::start()
{
    m_timer.start();
}

void DemoTraffic::stop()
{
    m_timer.stop();
    m_calls.clear();
}

void DemoTraffic::sendOne()
{
    if (m_calls.size() >= MAX_CONCURRENT_CALLS) {
        return;
    }
    const auto pick = m_random() % 10;
    const QByteArray prompt = PROMPTS[m_random() % std::size(PROMPTS)];
    const QByteArray maxTokens = QByteArray::number(16 + m_random() % 48);
    Gateway::Upstream::UpstreamRequest request;
    request.headers = {"Content-Type: application/json"};
    if (!m_keys.isEmpty()) {
        request.headers.push_back("Authorization: Bearer " + m_keys.at(static_cast<qsizetype>(m_random() % m_keys.size())));
    }
    request.firstByteTimeoutMs = 60000;
    if (pick < 2) {
        request.url = m_baseUrl + "/messages";
        request.headers.push_back("anthropic-version: 2023-06-01");
        request.body = "{\"model\":\"claude-sonnet\",\"max_tokens\":" + maxTokens + ",\"stream\":" +
                       (pick == 0 ? "true" : "false") + ",\"messages\":[{\"role\":\"user\",\"content\":\"" + prompt + "\"}]}";
    } else if (pick == 2) {
        request.url = m_baseUrl + "/chat/completions";
        request.body = "{\"model\":\"documents\",\"max_tokens\":" + maxTokens + ",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"" +
                       documentPrompt(m_random() % 12, m_random()) + "\"}]}";
    } else {
        request.url = m_baseUrl + "/chat/completions";
        request.body = "{\"model\":\"chat\",\"max_tokens\":" + maxTokens + ",\"stream\":" + (pick < 7 ? "true" : "false") +
                       ",\"messages\":[{\"role\":\"system\",\"content\":\"You are a helpful assistant.\"},"
                       "{\"role\":\"user\",\"content\":\"" + prompt + "\"}]}";
    }
    auto call = std::make_unique<Call>(*this);
    call->transfer = m_curl.start(std::move(request), *call);
    m_calls.push_back(std::move(call));
}

void DemoTraffic::finished(Call *call)
{
    std::erase_if(m_calls, [call](const std::unique_ptr<Call> &candidate) { return candidate.get() == call; });
}

} // namespace App
