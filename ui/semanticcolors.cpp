#include "semanticcolors.h"

#include <QPalette>

namespace Ui {

bool isDarkPalette(const QPalette &palette)
{
    // Judge by the background the text is drawn on, not by the text colour: some
    // themes use mid-grey text on both variants.
    return palette.color(QPalette::Base).lightnessF() < 0.5;
}

QColor errorColor(const QPalette &palette)
{
    // Darker red on light backgrounds, lighter red on dark ones: both keep roughly a
    // 4.5:1 contrast against the respective base colour.
    return isDarkPalette(palette) ? QColor(0xff, 0x7b, 0x72) : QColor(0xc0, 0x1c, 0x28);
}

QColor warningColor(const QPalette &palette)
{
    return isDarkPalette(palette) ? QColor(0xe3, 0xb3, 0x41) : QColor(0x9a, 0x67, 0x00);
}

QColor okColor(const QPalette &palette)
{
    return isDarkPalette(palette) ? QColor(0x56, 0xd3, 0x64) : QColor(0x1a, 0x7f, 0x37);
}

QColor healthColor(const QString &state, const QPalette &palette)
{
    if (state == u"failed") {
        return errorColor(palette);
    }
    if (state == u"degraded") {
        return warningColor(palette);
    }
    if (state == u"recovering") {
        // Blue: on its way back, neither alarming nor settled.
        return isDarkPalette(palette) ? QColor(0x6c, 0xb6, 0xff) : QColor(0x09, 0x69, 0xda);
    }
    return okColor(palette);
}

} // namespace Ui
