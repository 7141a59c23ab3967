#include "servermodel.h"

#include "syntheticprompt.h"

#include "routing/promptblocks.h"

#include <QtGlobal>

#include <algorithm>

namespace Gateway::Sim::Fleet {

void StepReport::clear()
{
    time = 0;
    firstTokens.clear();
    finished.clear();
    rejected.clear();
    gaps.clear();
}

namespace {

void addGap(StepReport &report, SimTime gap)
{
    for (TokenGap &entry : report.gaps) {
        if (entry.gap == gap) {
            ++entry.count;
            return;
        }
    }
    report.gaps.push_back({gap, 1});
}

} // namespace

ServerModel::ServerModel(const ServerConfig &config, QByteArrayView modelName)
    : m_config(config)
    , m_model(modelName.toByteArray())
    , m_cache(config.numGpuBlocks)
{
    m_totals.blockSize = config.blockSize;
    m_totals.numGpuBlocks = config.numGpuBlocks;
}

void ServerModel::submit(const EngineRequest &request, SimTime now)
{
    auto seq = std::make_unique<Sequence>();
    seq->id = request.id;
    seq->promptTokens = std::max(1, static_cast<int>(request.promptText.size() / TOKEN_CHARS));
    seq->maxTokens = std::max(1, request.maxTokens);
    // The server keys its cache with the very hasher the gateway uses (same model seed,
    // one block = blockSize tokens of 4 characters), over everything it will hold:
    // the prompt, then the answer as it is generated.
    Routing::PromptBlockHasher hasher(m_model, m_config.blockSize * TOKEN_CHARS, m_config.numGpuBlocks);
    hasher.append(request.promptText);
    hasher.append(request.completionText);
    seq->hashes = hasher.take();
    seq->readyAt = now + m_config.admissionDelay(seq->promptTokens);
    seq->remotePrefill = request.remotePrefill;
    if (seq->remotePrefill) {
        // Only the blocks not already held here are pulled (as vLLM's NixlConnector skips
        // locally cached ones); the pull happens before the request queues.
        const int promptBlocks = std::min<int>(seq->promptTokens / m_config.blockSize, static_cast<int>(seq->hashes.size()));
        const int local = announcedPrefix(std::span<const std::uint64_t>(seq->hashes.data(), static_cast<std::size_t>(promptBlocks)));
        seq->readyAt += m_config.kvTransferTime(seq->promptTokens - local * m_config.blockSize);
    }
    seq->order = m_submitted++;
    Sequence *raw = seq.get();
    m_sequences[request.id] = std::move(seq);
    m_pending.push(raw);
    ++m_pendingLive;
    m_totals.peakWaiting = std::max(m_totals.peakWaiting, m_pendingLive + m_waitingLive);
}

bool ServerModel::abort(std::uint64_t id)
{
    const auto it = m_sequences.find(id);
    if (it == m_sequences.end() || it->second->aborted) {
        return false;
    }
    Sequence &seq = *it->second;
    seq.aborted = true;
    // Removed lazily: pending and waiting entries when they reach the front, running
    // ones at the end of the step that includes them (their KV is in use until then).
    if (seq.phase == Phase::Pending) {
        --m_pendingLive;
    } else if (seq.phase == Phase::Waiting) {
        --m_waitingLive;
    }
    return true;
}

std::optional<SimTime> ServerModel::nextEventTime() const
{
    if (m_stepEnd) {
        return m_stepEnd;
    }
    if (!m_pending.empty()) {
        return m_pending.top()->readyAt;
    }
    return std::nullopt;
}

void ServerModel::advance(SimTime now, StepReport &report)
{
    report.clear();
    report.time = now;
    if (m_stepEnd && now >= *m_stepEnd) {
        finishStep(report);
    }
    if (!m_stepEnd) {
        startStep(now, report);
    }
}

void ServerModel::publishComputed(Sequence &seq)
{
    const int full = std::min<int>(seq.computed / m_config.blockSize, static_cast<int>(seq.hashes.size()));
    for (; seq.published < full; ++seq.published) {
        m_cache.publish(seq.blocks[static_cast<std::size_t>(seq.published)], seq.hashes[static_cast<std::size_t>(seq.published)]);
    }
}

int ServerModel::announcedPrefix(std::span<const std::uint64_t> chain) const
{
    int matched = 0;
    for (const std::uint64_t hash : chain) {
        if (!m_cache.contains(hash) && !m_announced.contains(hash)) {
            break;
        }
        ++matched;
    }
    return matched;
}

void ServerModel::announce(const Sequence &seq, int tokens)
{
    const int full = std::min<int>((seq.computed + tokens) / m_config.blockSize, static_cast<int>(seq.hashes.size()));
    for (int k = seq.published; k < full; ++k) {
        m_announced.insert(seq.hashes[static_cast<std::size_t>(k)]);
    }
}

void ServerModel::finishStep(StepReport &report)
{
    m_announced.clear(); // published below, or dropped with an aborted request
    const SimTime now = report.time;
    const SimTime length = *m_stepEnd - m_stepStart;
    m_totals.busyTime += length;
    m_totals.runningIntegral += static_cast<double>(m_running.size()) * static_cast<double>(length);
    m_totals.prefillTokensComputed += m_stepPrefill;
    m_totals.decodeTokens += m_stepDecode;
    ++m_totals.steps;

    bool anyDone = false;
    for (const Planned &planned : m_plan) {
        Sequence &seq = *planned.seq;
        if (seq.aborted) {
            anyDone = true;
            continue;
        }
        seq.computed += planned.tokens;
        publishComputed(seq);
        if (seq.computed < seq.promptTokens + seq.generated) {
            continue; // a prefill chunk that is not the last
        }
        // Every token is computed: the step sampled the next one.
        ++seq.generated;
        if (seq.generated == 1) {
            report.firstTokens.push_back(seq.id);
        } else {
            addGap(report, now - seq.lastTokenAt);
        }
        seq.lastTokenAt = now;
        if (seq.generated >= seq.maxTokens) {
            report.finished.push_back({seq.id, seq.generated});
            seq.aborted = true; // leaves with the aborted ones below
            anyDone = true;
        }
    }
    m_plan.clear();
    m_stepEnd.reset();
    if (anyDone) {
        std::vector<Sequence *> gone;
        const auto keep = std::stable_partition(m_running.begin(), m_running.end(), [](const Sequence *seq) { return !seq->aborted; });
        gone.assign(keep, m_running.end());
        m_running.erase(keep, m_running.end());
        for (Sequence *seq : gone) {
            m_cache.release(seq->blocks);
            forget(seq);
        }
    }
}

void ServerModel::startStep(SimTime now, StepReport &report)
{
    while (!m_pending.empty() && m_pending.top()->readyAt <= now) {
        Sequence *seq = m_pending.top();
        m_pending.pop();
        if (seq->aborted) {
            forget(seq);
            continue;
        }
        --m_pendingLive;
        if (blocksFor(seq->promptTokens + seq->maxTokens) > m_config.numGpuBlocks) {
            // Longer than the whole cache: vLLM refuses such a request up front.
            report.rejected.push_back(seq->id);
            forget(seq);
            continue;
        }
        seq->phase = Phase::Waiting;
        m_waiting.push_back(seq);
        ++m_waitingLive;
    }
    m_totals.peakWaiting = std::max(m_totals.peakWaiting, m_pendingLive + m_waitingLive);

    m_stepPrefill = 0;
    m_stepDecode = 0;
    // A step in which running requests had to be preempted admits nothing (vLLM); if it
    // then has nothing to run at all, plan once more so admission gets its turn.
    if (!planStep() && m_plan.empty()) {
        planStep();
    }
    if (m_plan.empty()) {
        return;
    }
    m_stepStart = now;
    m_stepEnd = now + m_config.step.stepTime(m_stepPrefill, m_stepDecode);
}

bool ServerModel::planStep()
{
    bool preempted = false;
    planRunning(preempted);
    if (!preempted) {
        planWaiting();
    }
    return !preempted;
}

void ServerModel::planRunning(bool &preempted)
{
    int budget = m_config.maxNumBatchedTokens;
    for (std::size_t i = 0; i < m_running.size() && budget > 0; ++i) {
        Sequence *seq = m_running[i];
        const int tokens = std::min(seq->promptTokens + seq->generated - seq->computed, budget);
        const int needed = blocksFor(seq->computed + tokens) - static_cast<int>(seq->blocks.size());
        while (needed > 0 && !m_cache.allocate(needed, seq->blocks)) {
            // Out of KV: recompute the most recently admitted request later (it is at
            // the back; everything before index i is already planned).
            Sequence *victim = m_running.back();
            m_running.pop_back();
            preempt(victim);
            preempted = true;
            if (victim == seq) {
                break;
            }
        }
        if (seq->phase != Phase::Running) {
            break;
        }
        (isPrefill(*seq) ? m_stepPrefill : m_stepDecode) += tokens;
        m_plan.push_back({seq, tokens});
        announce(*seq, tokens);
        budget -= tokens;
    }
    m_budgetLeft = budget;
}

void ServerModel::planWaiting()
{
    int budget = m_budgetLeft;
    while (budget > 0 && static_cast<int>(m_running.size()) < m_config.maxNumSeqs && !m_waiting.empty()) {
        Sequence *seq = m_waiting.front();
        if (seq->aborted) {
            m_waiting.pop_front();
            forget(seq);
            continue;
        }
        // Everything sampled so far is prompt now (a preempted request recomputes its
        // output too); at least one token is always computed, as in vLLM.
        const int target = seq->promptTokens + seq->generated;
        const int lookup = std::min<int>((target - 1) / m_config.blockSize, static_cast<int>(seq->hashes.size()));
        const std::span<const std::uint64_t> chain(seq->hashes.data(), static_cast<std::size_t>(lookup));
        m_cache.findPrefix(chain, m_hits);
        const int hitBlocks = static_cast<int>(m_hits.size());
        // Imported KV counts as computed: all but the last prompt token (vLLM computes
        // that one to sample the first token here).
        const int cachedTokens = seq->remotePrefill ? std::max(hitBlocks * m_config.blockSize, target - 1)
                                                    : hitBlocks * m_config.blockSize;
        const int tokens = std::min(target - cachedTokens, budget);
        const int needed = blocksFor(cachedTokens + tokens) - hitBlocks;
        if (m_cache.freeBlocks() - m_cache.freeAmong(m_hits) < needed) {
            break; // FCFS: the head waits for blocks, and so does everyone behind it
        }
        m_cache.acquire(m_hits, seq->blocks);
        m_cache.allocate(needed, seq->blocks);
        m_totals.prefixCacheQueries += target;
        m_totals.prefixCacheHits += hitBlocks * m_config.blockSize;
        m_totals.importedTokens += cachedTokens - hitBlocks * m_config.blockSize;
        seq->computed = cachedTokens;
        seq->published = hitBlocks;
        if (seq->remotePrefill) {
            publishComputed(*seq); // the imported blocks are complete: reusable at once
            seq->remotePrefill = false;
        }
        seq->phase = Phase::Running;
        m_waiting.pop_front();
        --m_waitingLive;
        m_running.push_back(seq);
        m_stepPrefill += tokens;
        m_plan.push_back({seq, tokens});
        announce(*seq, tokens);
        budget -= tokens;
    }
}

void ServerModel::preempt(Sequence *seq)
{
    m_cache.release(seq->blocks);
    seq->blocks.clear();
    seq->computed = 0;
    seq->published = 0;
    seq->phase = Phase::Waiting;
    m_waiting.push_front(seq);
    ++m_waitingLive;
    ++m_totals.preemptions;
}

void ServerModel::forget(Sequence *seq)
{
    m_sequences.erase(seq->id);
}

ServerStatus ServerModel::status() const
{
    ServerStatus status = m_totals;
    status.running = static_cast<int>(m_running.size());
    status.waiting = m_pendingLive + m_waitingLive;
    status.kvCacheUsage = m_cache.numBlocks() > 0
        ? 1.0 - static_cast<double>(m_cache.freeBlocks()) / static_cast<double>(m_cache.numBlocks())
        : 0.0;
    status.evictions = m_cache.evictions();
    status.processPrefixCacheQueries = m_totals.prefixCacheQueries - m_queriesAtRestart;
    status.processPrefixCacheHits = m_totals.prefixCacheHits - m_hitsAtRestart;
    return status;
}

void ServerModel::restart()
{
    m_cache.dropCached();
    m_announced.clear();
    m_queriesAtRestart = m_totals.prefixCacheQueries;
    m_hitsAtRestart = m_totals.prefixCacheHits;
}

} // namespace Gateway::Sim::Fleet
