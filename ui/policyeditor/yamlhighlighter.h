#pragma once

#include <QSyntaxHighlighter>
#include <QTextCharFormat>

namespace Ui {

// Light YAML colouring for the policy editor (keys, comments, strings, numbers), or, in
// Diff mode, added and removed lines of a unified diff. Colours derive from the palette
// so light and dark themes both read.
class YamlHighlighter final : public QSyntaxHighlighter {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(YamlHighlighter)

public:
    enum class Mode { Yaml, Diff };

    YamlHighlighter(QTextDocument *document, Mode mode, const QPalette &palette);

    void setPalette(const QPalette &palette);

protected:
    void highlightBlock(const QString &text) override;

private:
    Mode m_mode;
    QTextCharFormat m_key;
    QTextCharFormat m_comment;
    QTextCharFormat m_string;
    QTextCharFormat m_number;
    QTextCharFormat m_added;
    QTextCharFormat m_removed;
    QTextCharFormat m_hunk;
};

} // namespace Ui
