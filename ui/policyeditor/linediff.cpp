#include "linediff.h"

#include <QObject>

#include <algorithm>
#include <vector>

namespace Ui {

namespace {

struct Edit {
    char op; // ' ', '-', '+'
    int fromLine; // 0-based index into from (for ' ' and '-')
    int toLine;   // 0-based index into to (for ' ' and '+')
};

std::vector<Edit> editScript(const QStringList &a, const QStringList &b)
{
    const auto n = static_cast<std::size_t>(a.size());
    const auto m = static_cast<std::size_t>(b.size());
    // lcs[i][j]: length of the LCS of a[i..] and b[j..], flattened.
    std::vector<int> lcs((n + 1) * (m + 1), 0);
    const auto at = [m](std::size_t i, std::size_t j) { return i * (m + 1) + j; };
    for (std::size_t i = n; i-- > 0;) {
        for (std::size_t j = m; j-- > 0;) {
            lcs[at(i, j)] = a.at(static_cast<qsizetype>(i)) == b.at(static_cast<qsizetype>(j))
                                ? lcs[at(i + 1, j + 1)] + 1
                                : std::max(lcs[at(i + 1, j)], lcs[at(i, j + 1)]);
        }
    }
    std::vector<Edit> edits;
    std::size_t i = 0;
    std::size_t j = 0;
    while (i < n || j < m) {
        if (i < n && j < m && a.at(static_cast<qsizetype>(i)) == b.at(static_cast<qsizetype>(j))) {
            edits.push_back({' ', static_cast<int>(i), static_cast<int>(j)});
            ++i;
            ++j;
        } else if (i < n && (j == m || lcs[at(i + 1, j)] >= lcs[at(i, j + 1)])) {
            // Removals before additions, as diff(1) prints them.
            edits.push_back({'-', static_cast<int>(i), static_cast<int>(j)});
            ++i;
        } else {
            edits.push_back({'+', static_cast<int>(i), static_cast<int>(j)});
            ++j;
        }
    }
    return edits;
}

} // namespace

QString unifiedLineDiff(const QString &from, const QString &to, const QString &fromName, const QString &toName,
                        int context)
{
    const QStringList a = from.split(QLatin1Char('\n'));
    const QStringList b = to.split(QLatin1Char('\n'));
    if (a.size() > MaxDiffLines || b.size() > MaxDiffLines) {
        return QObject::tr("(documents too long to compare here: %1 and %2 lines)").arg(a.size()).arg(b.size());
    }
    const std::vector<Edit> edits = editScript(a, b);
    QString out;
    std::size_t k = 0;
    bool any = false;
    while (k < edits.size()) {
        if (edits[k].op == ' ') {
            ++k;
            continue;
        }
        // A hunk: from `context` lines before this change to `context` lines after the
        // last change that is at most 2*context unchanged lines further on.
        const std::size_t start = k >= static_cast<std::size_t>(context) ? k - static_cast<std::size_t>(context) : 0;
        std::size_t end = k;
        std::size_t unchanged = 0;
        for (std::size_t p = k; p < edits.size(); ++p) {
            if (edits[p].op == ' ') {
                if (++unchanged > static_cast<std::size_t>(2 * context)) {
                    break;
                }
            } else {
                unchanged = 0;
                end = p;
            }
        }
        const std::size_t stop = std::min(edits.size(), end + 1 + static_cast<std::size_t>(context));
        int fromCount = 0;
        int toCount = 0;
        for (std::size_t p = start; p < stop; ++p) {
            fromCount += edits[p].op != '+' ? 1 : 0;
            toCount += edits[p].op != '-' ? 1 : 0;
        }
        if (!any) {
            out += QStringLiteral("--- ") + fromName + QLatin1Char('\n') + QStringLiteral("+++ ") + toName + QLatin1Char('\n');
            any = true;
        }
        out += QStringLiteral("@@ -%1,%2 +%3,%4 @@\n")
                   .arg(edits[start].fromLine + (fromCount > 0 ? 1 : 0))
                   .arg(fromCount)
                   .arg(edits[start].toLine + (toCount > 0 ? 1 : 0))
                   .arg(toCount);
        for (std::size_t p = start; p < stop; ++p) {
            const Edit &e = edits[p];
            out += QLatin1Char(e.op) + (e.op == '+' ? b.at(e.toLine) : a.at(e.fromLine)) + QLatin1Char('\n');
        }
        k = stop;
    }
    return out;
}

} // namespace Ui
