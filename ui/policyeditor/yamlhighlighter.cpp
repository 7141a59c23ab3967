#include "yamlhighlighter.h"

#include "semanticcolors.h"

#include <QPalette>
#include <QRegularExpression>

namespace Ui {

YamlHighlighter::YamlHighlighter(QTextDocument *document, Mode mode, const QPalette &palette)
    : QSyntaxHighlighter {document}
    , m_mode {mode}
{
    setPalette(palette);
}

void YamlHighlighter::setPalette(const QPalette &palette)
{
    const bool dark = isDarkPalette(palette);
    m_key.setForeground(dark ? QColor(0x79, 0xc0, 0xff) : QColor(0x05, 0x50, 0xae));
    m_comment.setForeground(palette.color(QPalette::PlaceholderText));
    m_comment.setFontItalic(true);
    m_string.setForeground(dark ? QColor(0xa5, 0xd6, 0xff) : QColor(0x0a, 0x30, 0x69));
    m_number.setForeground(warningColor(palette));
    m_added.setForeground(okColor(palette));
    m_removed.setForeground(errorColor(palette));
    m_hunk.setForeground(palette.color(QPalette::PlaceholderText));
    rehighlight();
}

void YamlHighlighter::highlightBlock(const QString &text)
{
    if (m_mode == Mode::Diff) {
        if (text.startsWith(u"@@")) {
            setFormat(0, static_cast<int>(text.size()), m_hunk);
        } else if (text.startsWith(u'+')) {
            setFormat(0, static_cast<int>(text.size()), m_added);
        } else if (text.startsWith(u'-')) {
            setFormat(0, static_cast<int>(text.size()), m_removed);
        }
        return;
    }
    static const QRegularExpression key {QStringLiteral(R"(^\s*(?:-\s+)?([A-Za-z_][\w.\-]*)\s*:)")};
    static const QRegularExpression inlineKey {QStringLiteral(R"([{,]\s*([A-Za-z_][\w.\-]*)\s*:)")};
    static const QRegularExpression string {QStringLiteral(R"("(?:[^"\\]|\\.)*"|'[^']*')")};
    static const QRegularExpression number {QStringLiteral(R"((?<=[:\s\[,])-?\d+(?:\.\d+)?\b)")};
    for (const QRegularExpression *expression : {&key, &inlineKey}) {
        for (auto it = expression->globalMatch(text); it.hasNext();) {
            const auto match = it.next();
            setFormat(static_cast<int>(match.capturedStart(1)), static_cast<int>(match.capturedLength(1)), m_key);
        }
    }
    for (auto it = number.globalMatch(text); it.hasNext();) {
        const auto match = it.next();
        setFormat(static_cast<int>(match.capturedStart()), static_cast<int>(match.capturedLength()), m_number);
    }
    qsizetype commentStart = -1;
    for (auto it = string.globalMatch(text); it.hasNext();) {
        const auto match = it.next();
        setFormat(static_cast<int>(match.capturedStart()), static_cast<int>(match.capturedLength()), m_string);
    }
    // A '#' starts a comment only outside quotes and at a word boundary.
    bool inDouble = false;
    bool inSingle = false;
    for (qsizetype i = 0; i < text.size(); ++i) {
        const QChar c = text.at(i);
        if (c == u'"' && !inSingle && (i == 0 || text.at(i - 1) != u'\\')) {
            inDouble = !inDouble;
        } else if (c == u'\'' && !inDouble) {
            inSingle = !inSingle;
        } else if (c == u'#' && !inDouble && !inSingle && (i == 0 || text.at(i - 1).isSpace())) {
            commentStart = i;
            break;
        }
    }
    if (commentStart >= 0) {
        setFormat(static_cast<int>(commentStart), static_cast<int>(text.size() - commentStart), m_comment);
    }
}

} // namespace Ui
