#pragma once

#include <QByteArrayView>

namespace Gateway::Http {

// Reason phrase for a status code ("Not Found"); "Unknown" for codes we never send.
QByteArrayView statusText(int status);

} // namespace Gateway::Http
