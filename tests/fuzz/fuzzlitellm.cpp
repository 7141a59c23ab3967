// LiteLLM config import (Gateway::Config::importLiteLlmConfig). Property beyond memory
// safety: what it produces is a valid policy document, as its contract says: written by
// toYaml() it parses (references to environment variables resolved to a stand-in that
// is valid wherever a variable may stand: URLs and keys).
#include "fuzzinput.h"

#include "config/litellmimport.h"
#include "config/policyloader.h"
#include "config/policywriter.h"

#include <cstdio>

using namespace Gateway::Config;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    const QByteArray yaml(reinterpret_cast<const char *>(data), static_cast<qsizetype>(size));
    const auto imported = importLiteLlmConfig(yaml, QStringLiteral("litellm.yaml"));
    if (!imported) {
        if (imported.error().message.isEmpty()) {
            Fuzz::fail("a refused config without a message");
        }
        return 0;
    }
    const QByteArray written = toYaml(imported->policy, SecretRendering::Included);
    const auto parsed = parsePolicy(written, QStringLiteral("imported.yaml"),
                                    [](const QString &) { return std::optional<QByteArray> {"https://fuzz.invalid/v1"}; });
    if (!parsed) {
        std::fprintf(stderr, "%s\n--- written:\n%s\n", qPrintable(parsed.error().toString()), written.constData());
        Fuzz::fail("an imported LiteLLM config is not a valid policy document");
    }
    return 0;
}
