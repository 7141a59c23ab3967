#pragma once

#include <QByteArray>

namespace Storage {

// A unified diff ("---/+++", "@@" hunks, three lines of context) of two small texts such
// as policy documents, from their longest common subsequence of lines.
QByteArray unifiedDiff(const QByteArray &before, const QByteArray &after, const QByteArray &beforeName,
                       const QByteArray &afterName);

} // namespace Storage
