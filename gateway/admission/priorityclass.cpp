#include "priorityclass.h"

#include <QByteArray>

#include <algorithm>
#include <cmath>

namespace Gateway::Admission {

namespace {

// Enough of a rejected value to recognise it in an error body, not enough to echo a
// large header back.
constexpr qsizetype MAX_QUOTED_VALUE_CHARS = 32;

QString quotedForMessage(QByteArrayView value)
{
    QString quoted;
    const qsizetype shown = std::min(value.size(), MAX_QUOTED_VALUE_CHARS);
    for (qsizetype i = 0; i < shown; ++i) {
        const char c = value[i];
        // Control bytes and non-ASCII would garble a JSON or log line: shown as '?'.
        quoted += (c >= 0x20 && c < 0x7f) ? QChar::fromLatin1(c) : QChar(u'?');
    }
    if (value.size() > shown) {
        quoted += QStringLiteral("...");
    }
    return quoted;
}

bool equalsIgnoringCase(QByteArrayView value, QByteArrayView lowercase)
{
    if (value.size() != lowercase.size()) {
        return false;
    }
    for (qsizetype i = 0; i < value.size(); ++i) {
        char c = value[i];
        if (c >= 'A' && c <= 'Z') {
            c = static_cast<char>(c - 'A' + 'a');
        }
        if (c != lowercase[i]) {
            return false;
        }
    }
    return true;
}

} // namespace

QLatin1String priorityClassName(PriorityClass priority)
{
    switch (priority) {
    case PriorityClass::Interactive:
        return QLatin1String("interactive");
    case PriorityClass::Standard:
        return QLatin1String("standard");
    case PriorityClass::Batch:
        return QLatin1String("batch");
    }
    return QLatin1String("standard");
}

Expected<PriorityClass, PriorityError> parsePriorityClass(QByteArrayView value, QLatin1String field)
{
    const QByteArrayView trimmed = value.trimmed();
    for (const PriorityClass priority : PRIORITY_CLASSES) {
        const QLatin1String name = priorityClassName(priority);
        if (equalsIgnoringCase(trimmed, QByteArrayView(name.data(), name.size()))) {
            return priority;
        }
    }
    const QString expected = QStringLiteral("interactive, standard or batch");
    if (trimmed.isEmpty()) {
        return Unexpected(PriorityError {field + QStringLiteral(" is empty; expected ") + expected});
    }
    return Unexpected(PriorityError {field + QStringLiteral(" must be ") + expected + QStringLiteral(", not '") +
                                     quotedForMessage(trimmed) + u'\''});
}

ClassSettings defaultClassSettings(PriorityClass priority)
{
    switch (priority) {
    case PriorityClass::Interactive:
        return ClassSettings {.ttftObjectiveMs = 2000, .maxQueueWaitMs = 4000, .weight = 1.0};
    case PriorityClass::Standard:
        return ClassSettings {.ttftObjectiveMs = 10000, .maxQueueWaitMs = 20000, .weight = 1.0};
    case PriorityClass::Batch:
        return ClassSettings {.ttftObjectiveMs = 60000, .maxQueueWaitMs = 120000, .weight = 1.0};
    }
    return defaultClassSettings(DEFAULT_PRIORITY_CLASS);
}

ClassSettingsTable defaultClassSettingsTable()
{
    ClassSettingsTable table;
    for (const PriorityClass priority : PRIORITY_CLASSES) {
        table[classIndex(priority)] = defaultClassSettings(priority);
    }
    return table;
}

std::optional<QString> classSettingsError(PriorityClass priority, const ClassSettings &settings)
{
    const QString prefix = priorityClassName(priority) + u'.';
    if (settings.ttftObjectiveMs <= 0) {
        return prefix + QStringLiteral("ttft_objective_ms must be > 0");
    }
    if (settings.maxQueueWaitMs <= 0) {
        return prefix + QStringLiteral("max_queue_wait_ms must be > 0");
    }
    // Also rejects NaN, which compares false to everything.
    if (!(settings.weight > 0.0) || !std::isfinite(settings.weight)) {
        return prefix + QStringLiteral("weight must be a finite number > 0");
    }
    return std::nullopt;
}

} // namespace Gateway::Admission
