#include "streamtranslator.h"

#include "anthropicstreamfromopenai.h"
#include "openaistreamfromanthropic.h"

namespace Gateway::Translate {

std::unique_ptr<StreamTranslator> makeStreamTranslator(Config::WireFormat upstream, Config::WireFormat client,
                                                       const StreamOptions &options)
{
    if (upstream == client) {
        return nullptr;
    }
    if (client == Config::WireFormat::OpenAi) {
        return std::make_unique<OpenAiStreamFromAnthropic>(options);
    }
    return std::make_unique<AnthropicStreamFromOpenAi>();
}

} // namespace Gateway::Translate
