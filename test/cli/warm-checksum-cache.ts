// First: the compile cache, for the processes started from here on.
import "./compile-cache";
import { spawn } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { migrations } from "../../migrations/index";
import { cachedChecksums, CHECKSUM_CACHE_FILE } from "../../scripts/lib/current-checksums";

/** Exists, holding the pid of the process filling the cache, while it runs. */
export const WARMING_MARKER = `${CHECKSUM_CACHE_FILE}.warming`;

const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));

/**
 * Vitest global setup of the CLI project: fills the migration checksum cache
 * once (a replay of the history on a clean clone or after a migration
 * changed), so the CLI processes the tests start do not all replay at once.
 * Not awaited here: global setups run before any file starts, and on a clean
 * clone the replay takes seconds the other projects' files can use. It runs in
 * a process of its own, since its database calls block the thread they run on
 * (wrangler's proxy waits synchronously), which here would be Vitest's.
 * CLI files wait for it (test/cli/await-checksum-cache.ts).
 */
export default async function warmChecksumCache(): Promise<(() => Promise<void>) | undefined> {
  if (await cachedChecksums(migrations)) return undefined;
  mkdirSync(path.dirname(WARMING_MARKER), { recursive: true });
  const loader = pathToFileURL(path.join(REPO_ROOT, "node_modules", "tsx", "dist", "loader.mjs")).href;
  // A failed replay is not cached; the CLI runs then replay (and report) themselves.
  const child = spawn(process.execPath, ["--import", loader, path.join(REPO_ROOT, "test", "cli", "fill-checksum-cache.ts")], {
    cwd: REPO_ROOT,
    stdio: ["ignore", "ignore", "inherit"],
  });
  writeFileSync(WARMING_MARKER, String(child.pid));
  const done = new Promise<void>((resolve) => child.on("close", () => resolve()).on("error", () => resolve())).finally(() => rmSync(WARMING_MARKER, { force: true }));
  return () => done;
}
