#pragma once

namespace Gateway::Sim {

// Which provider a simulated upstream imitates: it picks the /v1/models and error
// shapes. Every flavour serves every endpoint; /v1/messages always speaks Anthropic.
enum class Flavor {
    OpenAi,    // an OpenAI-compatible server such as vLLM
    Anthropic, // the Anthropic Messages API
};

} // namespace Gateway::Sim
