#pragma once

// `switchyard import --from litellm`: converts a LiteLLM proxy config.yaml into a policy
// document. Whatever has no Switchyard equivalent is listed, never silently dropped.

#include "configerror.h"
#include "policy.h"
#include "util/expected.h"

#include <QByteArray>
#include <QString>
#include <QStringList>

namespace Gateway::Config {

struct LiteLlmImport {
    Policy policy;        // valid as parsePolicy() validates it; secrets stay ${VAR} references
    QStringList mapped;   // "model_list[0] gpt-4o -> route gpt-4o target openai/gpt-4o weight 1"
    QStringList unmapped; // "general_settings.master_key: <why it was not imported>"
};

// Errors are reserved for input that is not a LiteLLM config at all (bad YAML, wrong
// types, a model_list entry without model_name or litellm_params.model); they name
// sourceName:line and the field.
Expected<LiteLlmImport, ConfigError> importLiteLlmConfig(const QByteArray &yaml, const QString &sourceName);

} // namespace Gateway::Config
