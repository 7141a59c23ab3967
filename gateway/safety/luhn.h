#pragma once

#include <QByteArrayView>

namespace Gateway::Safety {

// True when the digits of `text` (separators ignored) are 13 to 19 long and pass the
// Luhn check every payment card number passes: a run of digits that fails it (an order
// number, a timestamp) is not redacted as a card.
bool isLuhnCardNumber(QByteArrayView text);

} // namespace Gateway::Safety
