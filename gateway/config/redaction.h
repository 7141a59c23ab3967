#pragma once

namespace Gateway::Config {

// What a redacted document shows instead of a secret. Sent back unchanged (PUT, import),
// it means "keep the stored value"; see resolveRedactedSecrets().
inline constexpr char REDACTED_SECRET[] = "***";

} // namespace Gateway::Config
