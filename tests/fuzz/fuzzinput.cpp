#include "fuzzinput.h"

#include <cstdio>
#include <cstdlib>

namespace Fuzz {

void fail(const char *what)
{
    std::fprintf(stderr, "fuzz property violated: %s\n", what);
    std::abort();
}

} // namespace Fuzz
