// The policy document parser (Gateway::Config::parsePolicy, yaml-cpp underneath), which
// reads --config files, `switchyard import` and PUT /admin/v1/policy bodies. Property
// beyond memory safety: the document contract of docs/CONFIG.md, that a policy the
// parser accepts is written by toYaml() and read back to an equal policy (what GET and
// PUT /admin/v1/policy and export/import rely on). Refusals must name what is wrong.
#include "fuzzinput.h"

#include "config/policyloader.h"
#include "config/policywriter.h"

#include <cstdio>

namespace {

using namespace Gateway::Config;

std::optional<QByteArray> anyVariable(const QString &)
{
    return QByteArrayLiteral("https://fuzz.invalid/v1"); // valid wherever a variable may stand: URLs and keys
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    const QByteArray yaml(reinterpret_cast<const char *>(data), static_cast<qsizetype>(size));
    const auto policy = parsePolicy(yaml, QStringLiteral("fuzz.yaml"), anyVariable);
    if (!policy) {
        if (policy.error().message.isEmpty()) {
            Fuzz::fail("a refused document without a message");
        }
        return 0;
    }
    const QByteArray written = toYaml(*policy, SecretRendering::Included);
    const auto reread = parsePolicy(written, QStringLiteral("written.yaml"), anyVariable);
    if (!reread) {
        std::fprintf(stderr, "%s\n--- written:\n%s\n", qPrintable(reread.error().toString()), written.constData());
        Fuzz::fail("the writer's document of an accepted policy is refused");
    }
    if (!(*reread == *policy)) {
        std::fprintf(stderr, "--- written:\n%s\n", written.constData());
        Fuzz::fail("an accepted policy does not survive toYaml() and parsePolicy()");
    }
    return 0;
}
