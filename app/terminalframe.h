#pragma once

#include "runtime/budgetrows.h"

#include <QByteArray>
#include <QList>
#include <QString>

#include <optional>

namespace Gateway {
struct StatusSnapshot;
}

namespace App {

// What the terminal console shows: everything, or one section full-screen.
enum class TerminalView { All, Routes, Backends, Budgets };

// The view selected by a key ('1'..'4'), or nullopt for any other key.
std::optional<TerminalView> terminalViewForKey(char key);
TerminalView nextTerminalView(TerminalView view); // 'r' cycles
QString terminalViewName(TerminalView view);

struct TerminalFrameInput {
    const Gateway::StatusSnapshot &snapshot;
    const QList<Gateway::BudgetRow> &budgets;
    qint64 nowMs = 0; // wall clock (Unix ms) for the budgets' projections
    QByteArray adminToken {}; // shown in the header when not empty
};

// One frame of exactly `height` lines, none wider than `width` visible columns, without
// the cursor-positioning prefix; lines are separated by "\r\n". Pure, so a resize is just
// a render at the new size and tests can assert on frames.
QByteArray renderTerminalFrame(const TerminalFrameInput &input, int width, int height, TerminalView view);

} // namespace App
