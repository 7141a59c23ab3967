#include "workloads.h"

#include "arrivals.h"

#include "routing/rng.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>
#include <utility>

namespace Gateway::Sim::Fleet {

namespace {

// Seed tags: which part of a prompt a span is, so spans never collide across roles.
enum SpanTag : std::uint64_t { SYSTEM = 1, QUESTION, ANSWER, HISTORY, ARRIVALS, CHOICES };

// W1 (SGLang bench_serving generated-shared-prefix defaults).
constexpr int GSP_GROUPS = 64;
constexpr int GSP_PROMPTS_PER_GROUP = 16;
constexpr int GSP_SYSTEM_TOKENS = 2048;
constexpr int GSP_QUESTION_TOKENS = 128;
constexpr int GSP_OUTPUT_TOKENS = 256;

// W2 (llm-d kvcache-wins; GIE short-questions many-system-prompts).
constexpr int B2B_GROUPS = 150;
constexpr int B2B_PROMPTS_PER_GROUP = 5;
constexpr int B2B_SYSTEM_TOKENS = 6000;
constexpr int B2B_QUESTION_TOKENS = 1200;
constexpr int B2B_OUTPUT_TOKENS = 1000;
constexpr double B2B_PREFIX_SHARE_OF_FLEET_KV = 0.73;
// The source ramps 3 -> 60 QPS: as multiples of the mean rate (3 + 60) / 2.
constexpr double B2B_RAMP_START = 3.0 / 31.5;
constexpr double B2B_RAMP_END = 60.0 / 31.5;

// W3 (production-stack multi-round-qa; question length and turn gap are ours).
constexpr int CHAT_SYSTEM_TOKENS = 1000;
constexpr int CHAT_HISTORY_TOKENS = 2000;
constexpr int CHAT_QUESTION_TOKENS = 100;
constexpr int CHAT_ANSWER_TOKENS = 100;
constexpr int CHAT_ROUNDS = 10;
constexpr double CHAT_TURN_GAP_SECONDS = 10.0;

// W4 (GIE long-questions many-system-prompts).
constexpr int LONG_GROUPS = 150;
constexpr int LONG_PROMPTS_PER_GROUP = 5;
constexpr int LONG_SYSTEM_TOKENS = 1000;
constexpr int LONG_QUESTION_TOKENS = 6200;
constexpr int LONG_OUTPUT_TOKENS = 1000;

// W5 (GIE short-questions few-system-prompts multi-chat; output length is ours).
constexpr int HOT_GROUPS = 6;
constexpr int HOT_USERS_PER_GROUP = 1000;
constexpr int HOT_SYSTEM_TOKENS = 1000;
constexpr double HOT_QUESTION_MEAN = 30.0;
constexpr double HOT_QUESTION_STDDEV = 9.0;
constexpr int HOT_OUTPUT_TOKENS = 100;

// W6 (BLIS P/D study: interactive chat 5K prefix ~50 uncached tokens per turn; code 30K
// prefix ~1,500 per turn). Answers, rounds and the turn gap are ours.
struct SessionShape {
    int contextTokens;
    int turnTokens;
    int answerTokens;
};
constexpr SessionShape W6_CHAT {5000, 50, 100};
constexpr SessionShape W6_CODE {30000, 1500, 300};
constexpr int W6_ROUNDS = 10;
constexpr double W6_TURN_GAP_SECONDS = 10.0;

int tokensOf(const std::vector<TextSpan> &spans)
{
    int tokens = 0;
    for (const TextSpan &span : spans) {
        tokens += span.tokens;
    }
    return tokens;
}

int uniformIndex(Routing::Rng &rng, int count)
{
    return std::min(count - 1, static_cast<int>(rng.uniform() * count));
}

class Builder {
public:
    Builder(QString name, std::uint64_t seed, WorkloadKind kind)
        : m_seed(seed)
        , m_kind(static_cast<std::uint64_t>(kind))
        , m_choices(mixSeed(seed, m_kind, CHOICES))
    {
        m_workload.name = std::move(name);
    }

    Routing::Rng &choices() { return m_choices; }
    std::vector<SimTime> arrivals(double rate, SimTime horizon)
    {
        Routing::XoshiroRng rng(mixSeed(m_seed, m_kind, ARRIVALS));
        return poissonArrivals(rng, rate, horizon);
    }
    std::vector<SimTime> ramp(double startRate, double endRate, SimTime horizon)
    {
        Routing::XoshiroRng rng(mixSeed(m_seed, m_kind, ARRIVALS));
        return rampArrivals(rng, startRate, endRate, horizon);
    }
    TextSpan span(SpanTag tag, std::uint64_t a, std::uint64_t b, int tokens, bool shared = false) const
    {
        return {mixSeed(mixSeed(m_seed, m_kind, tag), a, b), tokens, shared};
    }

    void add(SimTime arrival, std::vector<TextSpan> prompt, TextSpan completion, int group, QByteArray session = {})
    {
        SimRequest request;
        request.id = m_workload.requests.size();
        request.arrival = arrival;
        request.promptTokens = tokensOf(prompt);
        request.prompt = std::move(prompt);
        request.outputTokens = completion.tokens;
        request.completion = completion;
        request.prefixGroup = group;
        request.session = std::move(session);
        m_workload.requests.push_back(std::move(request));
    }

    Workload &workload() { return m_workload; }

private:
    std::uint64_t m_seed;
    std::uint64_t m_kind;
    Routing::XoshiroRng m_choices;
    Workload m_workload;
};

// Groups of a "groups x prompts per group" dataset in rounds: every round uses each
// group exactly `perGroup` times, in random order (or group after group when not shuffled).
class ShuffledRounds {
public:
    ShuffledRounds(int groups, int perGroup, bool shuffle)
        : m_shuffle(shuffle)
    {
        m_order.reserve(static_cast<std::size_t>(groups * perGroup));
        for (int g = 0; g < groups; ++g) {
            for (int k = 0; k < perGroup; ++k) {
                m_order.push_back(g);
            }
        }
        m_next = m_order.size();
    }

    int next(Routing::Rng &rng)
    {
        if (m_next == m_order.size()) {
            for (std::size_t i = m_order.size(); m_shuffle && i > 1; --i) {
                std::swap(m_order[i - 1], m_order[static_cast<std::size_t>(uniformIndex(rng, static_cast<int>(i)))]);
            }
            m_next = 0;
        }
        return m_order[m_next++];
    }

private:
    std::vector<int> m_order;
    std::size_t m_next;
    bool m_shuffle;
};

// "System prompt of the group + a unique question" workloads (W1, W2, W4).
void groupedQuestions(Builder &builder, const std::vector<SimTime> &arrivals, bool shuffle, int groups, int perGroup,
                      int systemTokens, int questionTokens, int outputTokens)
{
    ShuffledRounds rounds(groups, perGroup, shuffle);
    for (std::size_t k = 0; k < arrivals.size(); ++k) {
        const int group = rounds.next(builder.choices());
        builder.add(arrivals[k],
                    {builder.span(SYSTEM, static_cast<std::uint64_t>(group), 0, systemTokens, true),
                     builder.span(QUESTION, k, 0, questionTokens)},
                    builder.span(ANSWER, k, 0, outputTokens), group);
    }
}

Workload sharedPrefix(const WorkloadSpec &spec)
{
    Builder builder(workloadName(spec.kind), spec.seed, spec.kind);
    std::vector<SimTime> arrivals;
    if (spec.burst) {
        arrivals.assign(static_cast<std::size_t>(GSP_GROUPS * GSP_PROMPTS_PER_GROUP), 0);
    } else {
        arrivals = builder.arrivals(spec.rate, spec.horizon);
    }
    groupedQuestions(builder, arrivals, !spec.groupOrder, GSP_GROUPS, GSP_PROMPTS_PER_GROUP, GSP_SYSTEM_TOKENS, GSP_QUESTION_TOKENS,
                     GSP_OUTPUT_TOKENS);
    builder.workload().offeredRate = spec.burst ? 0.0 : spec.rate;
    return std::move(builder.workload());
}

Workload manySystemPrompts(const WorkloadSpec &spec)
{
    Builder builder(workloadName(spec.kind), spec.seed, spec.kind);
    const auto arrivals = spec.constantRate
        ? builder.arrivals(spec.rate, spec.horizon)
        : builder.ramp(spec.rate * B2B_RAMP_START, spec.rate * B2B_RAMP_END, spec.horizon);
    groupedQuestions(builder, arrivals, !spec.groupOrder, B2B_GROUPS, B2B_PROMPTS_PER_GROUP, B2B_SYSTEM_TOKENS, B2B_QUESTION_TOKENS,
                     B2B_OUTPUT_TOKENS);
    builder.workload().kvBlocksPerServer = manySystemPromptsKvBlocks(spec.servers);
    builder.workload().offeredRate = spec.rate;
    return std::move(builder.workload());
}

Workload longQuestions(const WorkloadSpec &spec)
{
    Builder builder(workloadName(spec.kind), spec.seed, spec.kind);
    groupedQuestions(builder, builder.arrivals(spec.rate, spec.horizon), !spec.groupOrder, LONG_GROUPS, LONG_PROMPTS_PER_GROUP,
                     LONG_SYSTEM_TOKENS, LONG_QUESTION_TOKENS, LONG_OUTPUT_TOKENS);
    builder.workload().offeredRate = spec.rate;
    return std::move(builder.workload());
}

// A conversation: its fixed head (system prompt, maybe a history document) and the
// question/answer turns so far.
struct Conversation {
    std::vector<TextSpan> turns; // q0, a0, q1, a1, ...
    std::uint64_t serial = 0;    // which user holds this slot
    int round = 0;
};

std::vector<TextSpan> promptOf(std::vector<TextSpan> head, const Conversation &conversation, const TextSpan &question)
{
    head.insert(head.end(), conversation.turns.begin(), conversation.turns.end());
    head.push_back(question);
    return head;
}

Workload multiTurnChat(const WorkloadSpec &spec)
{
    Builder builder(workloadName(spec.kind), spec.seed, spec.kind);
    const int users = std::max(1, static_cast<int>(std::lround(spec.rate * CHAT_TURN_GAP_SECONDS)));
    Routing::Rng &rng = builder.choices();
    std::vector<Conversation> conversations(static_cast<std::size_t>(users));
    std::uint64_t nextSerial = 0;
    const TextSpan system = builder.span(SYSTEM, 0, 0, CHAT_SYSTEM_TOKENS, true);
    auto questionOf = [&](const Conversation &c, int round) {
        return builder.span(QUESTION, c.serial, static_cast<std::uint64_t>(round), CHAT_QUESTION_TOKENS);
    };
    auto answerOf = [&](const Conversation &c, int round) {
        return builder.span(ANSWER, c.serial, static_cast<std::uint64_t>(round), CHAT_ANSWER_TOKENS);
    };
    auto newUser = [&](Conversation &c, int startRound) {
        c = Conversation {};
        c.serial = nextSerial++;
        // Users already in the middle of a conversation at t = 0 bring their earlier
        // turns (never sent in this run), so the run starts in a steady mix.
        for (; c.round < startRound; ++c.round) {
            c.turns.push_back(questionOf(c, c.round));
            c.turns.push_back(answerOf(c, c.round));
        }
    };
    for (Conversation &slot : conversations) {
        newUser(slot, uniformIndex(rng, CHAT_ROUNDS));
    }
    for (const SimTime arrival : builder.arrivals(spec.rate, spec.horizon)) {
        const int slotIndex = uniformIndex(rng, users);
        Conversation &c = conversations[static_cast<std::size_t>(slotIndex)];
        const TextSpan question = questionOf(c, c.round);
        const TextSpan answer = answerOf(c, c.round);
        const TextSpan history = builder.span(HISTORY, c.serial, 0, CHAT_HISTORY_TOKENS, true);
        builder.add(arrival, promptOf({system, history}, c, question), answer, 0,
                    "chat-" + QByteArray::number(slotIndex) + '-' + QByteArray::number(c.serial));
        c.turns.push_back(question);
        c.turns.push_back(answer);
        if (++c.round == CHAT_ROUNDS) {
            newUser(c, 0);
        }
    }
    builder.workload().completionsReused = true;
    builder.workload().offeredRate = spec.rate;
    return std::move(builder.workload());
}

Workload hotPrefixes(const WorkloadSpec &spec, bool zipf)
{
    Builder builder(workloadName(spec.kind), spec.seed, spec.kind);
    Routing::Rng &rng = builder.choices();
    std::array<double, HOT_GROUPS> cumulative {};
    double total = 0.0;
    for (int g = 0; g < HOT_GROUPS; ++g) {
        total += zipf ? 1.0 / (g + 1) : 1.0;
        cumulative[static_cast<std::size_t>(g)] = total;
    }
    std::vector<Conversation> users(static_cast<std::size_t>(HOT_GROUPS * HOT_USERS_PER_GROUP));
    for (std::size_t i = 0; i < users.size(); ++i) {
        users[i].serial = i;
    }
    for (const SimTime arrival : builder.arrivals(spec.rate, spec.horizon)) {
        const double draw = rng.uniform() * total;
        const int group = static_cast<int>(std::upper_bound(cumulative.begin(), cumulative.end(), draw) - cumulative.begin());
        const int user = std::min(group, HOT_GROUPS - 1) * HOT_USERS_PER_GROUP + uniformIndex(rng, HOT_USERS_PER_GROUP);
        Conversation &c = users[static_cast<std::size_t>(user)];
        const int questionTokens = std::max(1, static_cast<int>(std::lround(normalDraw(rng, HOT_QUESTION_MEAN, HOT_QUESTION_STDDEV))));
        const TextSpan question = builder.span(QUESTION, c.serial, static_cast<std::uint64_t>(c.round), questionTokens);
        const TextSpan answer = builder.span(ANSWER, c.serial, static_cast<std::uint64_t>(c.round), HOT_OUTPUT_TOKENS);
        const int groupIndex = user / HOT_USERS_PER_GROUP;
        builder.add(arrival,
                    promptOf({builder.span(SYSTEM, static_cast<std::uint64_t>(groupIndex), 0, HOT_SYSTEM_TOKENS, true)}, c, question),
                    answer, groupIndex, "hot-" + QByteArray::number(user));
        c.turns.push_back(question);
        c.turns.push_back(answer);
        ++c.round;
    }
    builder.workload().completionsReused = true;
    builder.workload().offeredRate = spec.rate;
    return std::move(builder.workload());
}

// W6: sessions of one context each, growing by a turn (new tokens + the answer) per
// request; active users send a turn every W6_TURN_GAP_SECONDS on average, and start at a
// random round (bringing earlier turns never sent in this run) so the mix is steady.
Workload sessionTurns(const WorkloadSpec &spec, const SessionShape &shape)
{
    Builder builder(workloadName(spec.kind), spec.seed, spec.kind);
    const int users = std::max(1, static_cast<int>(std::lround(spec.rate * W6_TURN_GAP_SECONDS)));
    Routing::Rng &rng = builder.choices();
    std::vector<Conversation> sessions(static_cast<std::size_t>(users));
    std::uint64_t nextSerial = 0;
    auto turnOf = [&](const Conversation &c, int round) {
        return builder.span(QUESTION, c.serial, static_cast<std::uint64_t>(round), shape.turnTokens);
    };
    auto answerOf = [&](const Conversation &c, int round) {
        return builder.span(ANSWER, c.serial, static_cast<std::uint64_t>(round), shape.answerTokens);
    };
    auto newSession = [&](Conversation &c, int startRound) {
        c = Conversation {};
        c.serial = nextSerial++;
        for (; c.round < startRound; ++c.round) {
            c.turns.push_back(turnOf(c, c.round));
            c.turns.push_back(answerOf(c, c.round));
        }
    };
    for (Conversation &slot : sessions) {
        newSession(slot, uniformIndex(rng, W6_ROUNDS));
    }
    for (const SimTime arrival : builder.arrivals(spec.rate, spec.horizon)) {
        const int slotIndex = uniformIndex(rng, users);
        Conversation &c = sessions[static_cast<std::size_t>(slotIndex)];
        const TextSpan turn = turnOf(c, c.round);
        const TextSpan answer = answerOf(c, c.round);
        const TextSpan context = builder.span(HISTORY, c.serial, 0, shape.contextTokens, true);
        builder.add(arrival, promptOf({context}, c, turn), answer, -1,
                    "w6-" + QByteArray::number(slotIndex) + '-' + QByteArray::number(c.serial));
        c.turns.push_back(turn);
        c.turns.push_back(answer);
        if (++c.round == W6_ROUNDS) {
            newSession(c, 0);
        }
    }
    builder.workload().completionsReused = true;
    builder.workload().offeredRate = spec.rate;
    return std::move(builder.workload());
}

} // namespace

int manySystemPromptsKvBlocks(int servers, int blockSize)
{
    // llm-d's "shared prefixes for all active customers": each customer's context plus its
    // five concurrent users' questions, 150 x (6,000 + 5 x 1,200) = 1.8M tokens = 73% of
    // 8 pods x 307,328 tokens, the pods' KV in that run (counting the contexts alone would
    // give the servers half that KV).
    const double distinctPrefixTokens =
        static_cast<double>(B2B_GROUPS) * (B2B_SYSTEM_TOKENS + B2B_PROMPTS_PER_GROUP * B2B_QUESTION_TOKENS);
    const double fleetTokens = distinctPrefixTokens / B2B_PREFIX_SHARE_OF_FLEET_KV;
    return static_cast<int>(std::ceil(fleetTokens / (std::max(1, servers) * std::max(1, blockSize))));
}

Workload generateWorkload(const WorkloadSpec &spec)
{
    switch (spec.kind) {
    case WorkloadKind::SharedPrefix:
        return sharedPrefix(spec);
    case WorkloadKind::ManySystemPrompts:
        return manySystemPrompts(spec);
    case WorkloadKind::MultiTurnChat:
        return multiTurnChat(spec);
    case WorkloadKind::LongQuestions:
        return longQuestions(spec);
    case WorkloadKind::HotPrefixes:
        return hotPrefixes(spec, false);
    case WorkloadKind::HotPrefixesZipf:
        return hotPrefixes(spec, true);
    case WorkloadKind::MixedFleetChat:
        return sessionTurns(spec, W6_CHAT);
    case WorkloadKind::MixedFleetCode:
        return sessionTurns(spec, W6_CODE);
    }
    return {};
}

std::optional<WorkloadKind> workloadKindFromName(std::string_view name)
{
    static constexpr std::array<std::pair<std::string_view, WorkloadKind>, 14> names {{
        {"W1", WorkloadKind::SharedPrefix},     {"gsp", WorkloadKind::SharedPrefix},
        {"W2", WorkloadKind::ManySystemPrompts}, {"b2b", WorkloadKind::ManySystemPrompts},
        {"W3", WorkloadKind::MultiTurnChat},    {"chat", WorkloadKind::MultiTurnChat},
        {"W4", WorkloadKind::LongQuestions},    {"low-share", WorkloadKind::LongQuestions},
        {"W5", WorkloadKind::HotPrefixes},      {"hot", WorkloadKind::HotPrefixes},
        {"W5z", WorkloadKind::HotPrefixesZipf}, {"hot-zipf", WorkloadKind::HotPrefixesZipf},
        {"W6chat", WorkloadKind::MixedFleetChat}, {"W6code", WorkloadKind::MixedFleetCode},
    }};
    for (const auto &[spelling, kind] : names) {
        if (spelling == name) {
            return kind;
        }
    }
    return std::nullopt;
}

QString workloadName(WorkloadKind kind)
{
    switch (kind) {
    case WorkloadKind::SharedPrefix:
        return QStringLiteral("W1");
    case WorkloadKind::ManySystemPrompts:
        return QStringLiteral("W2");
    case WorkloadKind::MultiTurnChat:
        return QStringLiteral("W3");
    case WorkloadKind::LongQuestions:
        return QStringLiteral("W4");
    case WorkloadKind::HotPrefixes:
        return QStringLiteral("W5");
    case WorkloadKind::HotPrefixesZipf:
        return QStringLiteral("W5z");
    case WorkloadKind::MixedFleetChat:
        return QStringLiteral("W6chat");
    case WorkloadKind::MixedFleetCode:
        return QStringLiteral("W6code");
    }
    return {};
}

} // namespace Gateway::Sim::Fleet
