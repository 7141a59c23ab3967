#pragma once

#include "util/expected.h"

#include <QByteArrayView>
#include <QLatin1String>
#include <QString>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace Gateway::Admission {

// How urgently a client wants its first token. Set per request with the `x-priority`
// header or per virtual key. The gateway-side queue serves the classes in strict order
// (every waiting interactive request before any standard one, standard before batch) and
// sheds them in the reverse order when a route is overloaded.
enum class PriorityClass : std::uint8_t {
    Interactive, // a person is watching the tokens arrive
    Standard,    // the default: an application call with a human somewhere behind it
    Batch,       // offline work that only needs to finish eventually
};

inline constexpr std::size_t PRIORITY_CLASS_COUNT = 3;
// A request with neither an `x-priority` header nor a class on its virtual key.
inline constexpr PriorityClass DEFAULT_PRIORITY_CLASS = PriorityClass::Standard;
// Every class, in the order the queue serves them.
inline constexpr std::array<PriorityClass, PRIORITY_CLASS_COUNT> PRIORITY_CLASSES {
    PriorityClass::Interactive, PriorityClass::Standard, PriorityClass::Batch};

constexpr std::size_t classIndex(PriorityClass priority)
{
    return static_cast<std::size_t>(priority);
}

// The lowercase name used by the header, the configuration and metric labels.
QLatin1String priorityClassName(PriorityClass priority);

struct PriorityError {
    QString message; // names the field and the accepted values, ready for a 400 body
};

// Parses a priority value, case-insensitively and ignoring surrounding whitespace:
// "interactive", "standard" or "batch". Anything else (including an empty value) is an
// error whose message names `field`, so the proxy can answer 400 "x-priority must be ..."
// and the configuration loader can name the virtual key's entry instead. The value comes
// from an untrusted client: it is quoted in the message only in part and only printable.
Expected<PriorityClass, PriorityError> parsePriorityClass(QByteArrayView value,
                                                          QLatin1String field = QLatin1String("x-priority"));

// What each class is promised, configurable per class (policy keys in brackets).
struct ClassSettings {
    // [ttft_objective_ms] Time-to-first-token objective, measured from arrival at the
    // gateway. A request predicted to miss it is refused at once with 429 + Retry-After
    // rather than left to time out.
    qint64 ttftObjectiveMs = 0;
    // [max_queue_wait_ms] Hard bound on the time spent in the gateway queue; when it is
    // reached the request is answered (429/503 + Retry-After), never left hanging. The
    // safety net for when the prediction is unknown (no completion observed yet) or wrong.
    qint64 maxQueueWaitMs = 0;
    // [weight] Fair-share weight of a virtual key within this class when the key itself
    // sets none: a key of weight 2 gets twice the tokens of a key of weight 1 while both
    // are waiting. Classes are not weighted against each other: their order is strict.
    double weight = 1.0;
};

using ClassSettingsTable = std::array<ClassSettings, PRIORITY_CLASS_COUNT>;

// Defaults, chosen for chat-sized requests on self-hosted GPUs:
// - interactive: first token within 2 s (what a person perceives as "responding"),
//   queued for at most 4 s;
// - standard: 10 s (an API caller's usual patience), at most 20 s in the queue;
// - batch: 60 s, at most 120 s in the queue (offline work retries; it should rather be
//   told "come back later" than hold a connection for minutes).
// The maximum waits are twice the objectives: the prediction refuses a request as soon
// as it is known to miss its objective, so the bound only fires when the prediction is
// unavailable or badly off.
ClassSettings defaultClassSettings(PriorityClass priority);
ClassSettingsTable defaultClassSettingsTable();

// Why `settings` cannot be used for `priority` (e.g. "batch.weight must be > 0"), or
// nothing when it is valid.
std::optional<QString> classSettingsError(PriorityClass priority, const ClassSettings &settings);

} // namespace Gateway::Admission
