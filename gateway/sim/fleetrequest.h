#pragma once

#include "inferencerequest.h"
#include "util/expected.h"

#include <QByteArray>
#include <QByteArrayView>

namespace Gateway::Sim {

// vLLM's disaggregated-serving parameters (`kv_transfer_params`, KV connectors such as
// NixlConnector), as far as the simulated server acts on them.
struct KvTransferRequest {
    bool present = false;       // the body had a kv_transfer_params object
    bool remoteDecode = false;  // do_remote_decode: prefill only, keep the blocks for a puller
    bool remotePrefill = false; // do_remote_prefill: pull the prompt's blocks, skip its prefill
    QByteArray remoteEngineId;  // remote_engine_id, when a string
    int remoteBlocks = 0;       // entries of remote_block_ids
    QByteArray raw;             // the object as sent (compact JSON), for request records
};

// What a fleet-mode server (FleetServer) needs from an OpenAI request body.
struct FleetRequest {
    QByteArray model;         // empty when the request named none
    // The prompt as the gateway renders it for prefix hashing (RequestInspector): every
    // role name and every text string, in document order, concatenated. The engine cuts
    // it into KV blocks of 64 characters (16 tokens of 4), so a server's cache and the
    // gateway's prefix index see exactly the same blocks.
    QByteArray promptText;
    // Simulator extension "x_sim_completion_text": the answer this request stands for.
    // A multi-turn workload sends it so the server hashes its decode blocks with the
    // text a later turn will send back (fleet simulator, completionsReused). Real
    // servers never see it; empty = the generated blocks are never reused.
    QByteArray completionText;
    int maxTokens = -1;       // max_tokens or max_completion_tokens; -1 when absent
    bool stream = false;
    bool includeUsage = false; // stream_options.include_usage
    KvTransferRequest kvTransfer;
};

// Parses a /v1/chat/completions or /v1/completions body; the error is a message for a
// 400 answer. Other endpoints are refused.
Expected<FleetRequest, QByteArray> parseFleetRequest(Endpoint endpoint, QByteArrayView body);

} // namespace Gateway::Sim
