#pragma once

#include "documentreader.h"
#include "policy.h"

namespace Gateway::Config {

// The admission-control parts of a policy document: the top-level `admission:` section,
// a target's `max_concurrency` and a virtual key's `priority`. Errors name the field,
// e.g. admission.classes.batch.ttft_objective_ms or routes[0].targets[1].max_concurrency.

AdmissionPolicy parseAdmission(const DocumentReader &reader, const YAML::Node &node);
void parseTargetConcurrency(const DocumentReader &reader, const YAML::Node &targetNode, const QString &field,
                            Target &target);
void parseKeyPriority(const DocumentReader &reader, const YAML::Node &keyNode, const QString &field, VirtualKey &key);

// Caps across routes, once every route is parsed: a cap belongs to the server, so every
// target naming the same provider/model states the same max_concurrency; and a route caps
// all of its targets or none (an uncapped target is never saturated, so a route with one
// would never queue, and a cap elsewhere in it would silently do nothing).
void validateConcurrencyCaps(const DocumentReader &reader, const YAML::Node &root, const Policy &policy);

} // namespace Gateway::Config
