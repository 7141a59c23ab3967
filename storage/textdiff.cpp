#include "textdiff.h"

#include <QList>

#include <vector>

namespace Storage {

namespace {

constexpr int CONTEXT_LINES = 3;

enum class Op { Keep, Remove, Add };

struct Line {
    Op op;
    QByteArray text;
    int beforeNumber; // 1-based line in `before` (Keep/Remove) or position before it (Add)
    int afterNumber;
};

QList<QByteArray> splitLines(const QByteArray &text)
{
    QList<QByteArray> lines = text.split('\n');
    if (!lines.isEmpty() && lines.constLast().isEmpty()) {
        lines.removeLast();
    }
    return lines;
}

// Policy documents are a few hundred lines, so the quadratic table is small.
std::vector<Line> diffLines(const QList<QByteArray> &a, const QList<QByteArray> &b)
{
    const auto n = static_cast<std::size_t>(a.size());
    const auto m = static_cast<std::size_t>(b.size());
    std::vector<std::vector<int>> lcs(n + 1, std::vector<int>(m + 1, 0));
    for (std::size_t i = n; i-- > 0;) {
        for (std::size_t j = m; j-- > 0;) {
            lcs[i][j] = a[static_cast<qsizetype>(i)] == b[static_cast<qsizetype>(j)]
                            ? lcs[i + 1][j + 1] + 1
                            : std::max(lcs[i + 1][j], lcs[i][j + 1]);
        }
    }
    std::vector<Line> lines;
    std::size_t i = 0;
    std::size_t j = 0;
    while (i < n || j < m) {
        if (i < n && j < m && a[static_cast<qsizetype>(i)] == b[static_cast<qsizetype>(j)]) {
            lines.push_back({Op::Keep, a[static_cast<qsizetype>(i)], static_cast<int>(i + 1), static_cast<int>(j + 1)});
            ++i;
            ++j;
        } else if (j < m && (i == n || lcs[i][j + 1] >= lcs[i + 1][j])) {
            lines.push_back({Op::Add, b[static_cast<qsizetype>(j)], static_cast<int>(i), static_cast<int>(j + 1)});
            ++j;
        } else {
            lines.push_back({Op::Remove, a[static_cast<qsizetype>(i)], static_cast<int>(i + 1), static_cast<int>(j)});
            ++i;
        }
    }
    return lines;
}

} // namespace

QByteArray unifiedDiff(const QByteArray &before, const QByteArray &after, const QByteArray &beforeName,
                       const QByteArray &afterName)
{
    const std::vector<Line> lines = diffLines(splitLines(before), splitLines(after));
    QByteArray out;
    std::size_t index = 0;
    while (index < lines.size()) {
        while (index < lines.size() && lines[index].op == Op::Keep) {
            ++index;
        }
        if (index == lines.size()) {
            break;
        }
        // A hunk: from CONTEXT_LINES before the change to CONTEXT_LINES after the last
        // change that is within 2 * CONTEXT_LINES of the previous one.
        const std::size_t start = index >= CONTEXT_LINES ? index - CONTEXT_LINES : 0;
        std::size_t end = index;
        std::size_t quiet = 0;
        while (end < lines.size() && quiet <= 2 * CONTEXT_LINES) {
            quiet = lines[end].op == Op::Keep ? quiet + 1 : 0;
            ++end;
        }
        end = std::min(lines.size(), end - quiet + std::min<std::size_t>(quiet, CONTEXT_LINES));
        int beforeCount = 0;
        int afterCount = 0;
        for (std::size_t k = start; k < end; ++k) {
            beforeCount += lines[k].op != Op::Add ? 1 : 0;
            afterCount += lines[k].op != Op::Remove ? 1 : 0;
        }
        const int beforeStart = lines[start].op == Op::Add ? lines[start].beforeNumber + 1 : lines[start].beforeNumber;
        const int afterStart = lines[start].op == Op::Remove ? lines[start].afterNumber + 1 : lines[start].afterNumber;
        if (out.isEmpty()) {
            out += "--- " + beforeName + "\n+++ " + afterName + '\n';
        }
        out += "@@ -" + QByteArray::number(beforeCount == 0 ? beforeStart - 1 : beforeStart) + ',' +
               QByteArray::number(beforeCount) + " +" +
               QByteArray::number(afterCount == 0 ? afterStart - 1 : afterStart) + ',' + QByteArray::number(afterCount) +
               " @@\n";
        for (std::size_t k = start; k < end; ++k) {
            out += lines[k].op == Op::Keep ? ' ' : (lines[k].op == Op::Add ? '+' : '-');
            out += lines[k].text + '\n';
        }
        index = end;
    }
    return out;
}

} // namespace Storage
