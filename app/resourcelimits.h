#pragma once

namespace App {

// A proxy holds two sockets per request; raise the open-file soft limit to the hard
// limit so a busy gateway does not run out of descriptors at the default 1024.
void raiseFileDescriptorLimit();

} // namespace App
