import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Migration } from "kysely/migration";
import { captureChecksum } from "../../src/db/migration/capture-checksum";
import type { MigrationChecksum } from "../../src/db/migration/migration-checksums";
import { readSchemaFacts } from "../../src/db/migration/read-schema-facts";
import { usingD1 } from "./using-d1";
import { sqliteWasmAnalyser } from "../../src/db/migration/sqlite-wasm-analyser";

const REPO_ROOT = path.resolve(fileURLToPath(new URL("../..", import.meta.url)));

/** Where the checksums are cached, keyed by {@link sourceKey}; git-ignored with the rest of `.wrangler/`. */
export const CHECKSUM_CACHE_FILE = path.join(REPO_ROOT, ".wrangler", "cache", "migration-checksums.json");

// What a migration's statements can depend on: its own file and the other
// migration files, the runner and its helpers (rebuildTable, the dialect),
// and the Kysely that compiles the queries. Bump FORMAT when checksumOf changes.
const FORMAT = 3;
const SOURCE_DIRS = ["migrations", path.join("src", "db", "migration")];

export interface CurrentChecksums {
  /** By migration name. A migration whose capture failed, and every one after it, is missing. */
  checksums: Record<string, MigrationChecksum>;
  /** By migration name: the schema facts once it is applied (see `readSchemaFacts`), for `check`. */
  schemaAfter: Record<string, [string, string][]>;
  /** The capture's error, when one failed. */
  captureError?: { migration: string; error: unknown };
  /** True when they were read from the cache (no replay). */
  cached: boolean;
}

/**
 * The checksum of every registered migration's `up`, as captured on a
 * throwaway local D1 migrated to the migration before it (empty tables: the
 * path `pnpm migrations:sql` uses), with the schema each one leaves behind. Cached in {@link CHECKSUM_CACHE_FILE} by
 * the content of the source files the statements depend on, so a run replays
 * the history only after one of them changed.
 *
 * @example
 * ```ts
 * const { checksums } = await currentChecksums(migrations)
 * ```
 */
export async function currentChecksums(
  migrations: Record<string, Migration>,
  { cacheFile = CHECKSUM_CACHE_FILE }: { cacheFile?: string } = {},
): Promise<CurrentChecksums> {
  const key = await sourceKey();
  const cached = await cachedChecksums(migrations, { cacheFile }, key);
  if (cached) return cached;
  const captured = await captureChecksums(migrations);
  // A failed capture is not cached: the migration is probably being written.
  if (!captured.captureError) await writeCache(cacheFile, { key, checksums: captured.checksums, schemaAfter: captured.schemaAfter });
  return { ...captured, cached: false };
}

/**
 * What {@link currentChecksums} returns when its cache is current, without
 * replaying anything (and without loading wrangler): undefined otherwise.
 *
 * @example
 * ```ts
 * if (!(await cachedChecksums(migrations))) console.log("the next run replays the history")
 * ```
 */
export async function cachedChecksums(
  migrations: Record<string, Migration>,
  { cacheFile = CHECKSUM_CACHE_FILE }: { cacheFile?: string } = {},
  key?: string,
): Promise<CurrentChecksums | undefined> {
  const names = Object.keys(migrations).sort();
  const cached = await readCache(cacheFile);
  if (cached?.key === (key ?? (await sourceKey())) && names.every((name) => cached.checksums?.[name] && cached.schemaAfter?.[name])) {
    return { checksums: cached.checksums, schemaAfter: cached.schemaAfter, cached: true };
  }
  return undefined;
}

/** Replays every migration on a throwaway local D1, capturing each `up` before applying it. */
async function captureChecksums(migrations: Record<string, Migration>): Promise<Omit<CurrentChecksums, "cached">> {
  const stateDir = await mkdtemp(path.join(tmpdir(), "migration-checksums-"));
  try {
    const target = { remote: false, env: undefined, persistTo: stateDir, config: path.join(REPO_ROOT, "wrangler.toml") };
    return await usingD1(target, async (database) => {
      const checksums: Record<string, MigrationChecksum> = {};
      const schemaAfter: Record<string, [string, string][]> = {};
      const analyser = sqliteWasmAnalyser();
      const read = async (sql: string) => (await database.prepare(sql).all<Record<string, unknown>>()).results;
      for (const name of Object.keys(migrations).sort()) {
        const captured = await captureChecksum(database, migrations, name, analyser);
        if ("error" in captured) return { checksums, schemaAfter, captureError: { migration: name, error: captured.error } };
        checksums[name] = captured.checksum;
        schemaAfter[name] = [...(await readSchemaFacts(read))];
      }
      return { checksums, schemaAfter };
    });
  } finally {
    await rm(stateDir, { recursive: true, force: true });
  }
}

async function sourceKey(): Promise<string> {
  const hash = createHash("sha256").update(`format ${FORMAT}\n`);
  const kysely = JSON.parse(await readFile(path.join(REPO_ROOT, "node_modules", "kysely", "package.json"), "utf8")) as { version: string };
  hash.update(`kysely ${kysely.version}\n`);
  for (const dir of SOURCE_DIRS) {
    const files = (await readdir(path.join(REPO_ROOT, dir), { recursive: true })).filter((file) => file.endsWith(".ts")).sort();
    for (const file of files) {
      hash.update(`${path.join(dir, file)}\n`).update(await readFile(path.join(REPO_ROOT, dir, file)));
    }
  }
  return hash.digest("hex");
}

interface CacheContent {
  key: string;
  checksums: Record<string, MigrationChecksum>;
  schemaAfter: Record<string, [string, string][]>;
}

async function readCache(file: string): Promise<CacheContent | undefined> {
  try {
    return JSON.parse(await readFile(file, "utf8")) as CacheContent;
  } catch {
    return undefined; // missing or unreadable: replay
  }
}

async function writeCache(file: string, content: CacheContent): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  // Renamed into place, so a concurrent run never reads half a file.
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, JSON.stringify(content));
  await rename(temp, file);
}
