// First: the compile cache, for wrangler imported here and by every process started after.
import "./compile-cache";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { migrations } from "../../migrations/index";
import { CHECKSUM_CACHE_FILE, currentChecksums } from "../../scripts/lib/current-checksums";

/** Exists, holding the warming process's pid, while {@link warmChecksumCache} fills the cache. */
export const WARMING_MARKER = `${CHECKSUM_CACHE_FILE}.warming`;

/**
 * Vitest global setup of the CLI project: fills the migration checksum cache
 * once (a replay on a clean clone or after a migration changed; milliseconds
 * otherwise), so the CLI processes the tests start do not all replay at once.
 * It is not awaited here: global setups run before any file starts, and on a
 * clean clone the replay takes seconds that the other projects' files can use.
 * CLI files wait for it (test/cli/await-checksum-cache.ts).
 */
export default function warmChecksumCache(): () => Promise<void> {
  mkdirSync(path.dirname(WARMING_MARKER), { recursive: true });
  writeFileSync(WARMING_MARKER, String(process.pid));
  // A failed replay is not cached; the CLI runs then replay (and fail) themselves.
  const warming = currentChecksums(migrations)
    .then(() => undefined, () => undefined)
    .finally(() => rmSync(WARMING_MARKER, { force: true }));
  return () => warming;
}
