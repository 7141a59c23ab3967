#include "luhn.h"

namespace Gateway::Safety {

bool isLuhnCardNumber(QByteArrayView text)
{
    int digits = 0;
    int sum = 0;
    // From the right: every second digit doubled (minus 9 when above 9).
    for (qsizetype i = text.size() - 1; i >= 0; --i) {
        const char c = text[i];
        if (c < '0' || c > '9') {
            continue;
        }
        int digit = c - '0';
        if (digits % 2 == 1) {
            digit *= 2;
            if (digit > 9) {
                digit -= 9;
            }
        }
        sum += digit;
        ++digits;
    }
    return digits >= 13 && digits <= 19 && sum % 10 == 0;
}

} // namespace Gateway::Safety
