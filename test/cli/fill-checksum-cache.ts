import { migrations } from "../../migrations/index";
import { currentChecksums } from "../../scripts/lib/current-checksums";

// Started by test/cli/warm-checksum-cache.ts: replays the history once and
// caches the checksums (nothing is cached when a capture fails).
await currentChecksums(migrations);
