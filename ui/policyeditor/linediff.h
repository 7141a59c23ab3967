#pragma once

#include <QString>
#include <QStringList>

namespace Ui {

// A unified diff ("--- a", "+++ b", "@@ -l,n +l,n @@", " ", "-", "+" lines) of two texts
// by lines, from a longest-common-subsequence table. Policy documents are a few hundred
// lines, so the quadratic table is small; past MaxLines a one-line notice is returned
// rather than stall the GUI thread.
QString unifiedLineDiff(const QString &from, const QString &to, const QString &fromName, const QString &toName,
                        int context = 3);

constexpr int MaxDiffLines = 4000;

} // namespace Ui
