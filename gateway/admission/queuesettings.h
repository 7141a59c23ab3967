#pragma once

#include "priorityclass.h"

namespace Gateway::Admission {

struct QueueSettings {
    // Far more than a GPU group serves within any class's max wait at chat sizes, yet
    // small enough that the O(depth) passes of admit() and expire() stay in microseconds.
    static constexpr int DEFAULT_MAX_QUEUED = 1024;

    // Sum of the group's per-target max_concurrency (only targets that currently take
    // traffic). 0 = no slot: every request waits, then times out.
    int slotCount = 0;
    // Requests waiting at most, over all classes. A full queue makes room for a request
    // by evicting the last waiter of a lower class, or refuses it.
    int maxQueued = DEFAULT_MAX_QUEUED;
    ClassSettingsTable classes = defaultClassSettingsTable();

    const ClassSettings &operator[](PriorityClass priority) const { return classes[classIndex(priority)]; }
    ClassSettings &operator[](PriorityClass priority) { return classes[classIndex(priority)]; }
};

} // namespace Gateway::Admission
