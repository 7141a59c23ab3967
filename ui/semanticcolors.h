#pragma once

// Colours that carry meaning (error, warning) and must stay legible on both light and
// dark system palettes. Everything else in the console takes its colours from the palette.

#include <QColor>
#include <QString>

class QPalette;

namespace Ui {

bool isDarkPalette(const QPalette &palette);
QColor errorColor(const QPalette &palette);
QColor warningColor(const QPalette &palette);
QColor okColor(const QPalette &palette);
// The chip colour of a routing-engine health state: healthy, degraded, failed, recovering.
QColor healthColor(const QString &state, const QPalette &palette);

} // namespace Ui
