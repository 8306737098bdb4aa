import { createHash } from "node:crypto";
import { readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { downFileFor, type SqlFileMigrationSource } from "../../src/db/migration/sql-file-migration";
import { loadWrangler } from "./load-wrangler";
import { splitSql } from "./split-sql";

/** The D1 binding's `migrations_dir` and `migrations_table` from the wrangler config (wrangler's defaults when unset). */
export interface D1MigrationSettings {
  migrationsDir: string;
  migrationsTable: string;
}

/**
 * Reads `migrations_dir` and `migrations_table` of the `DB` binding as wrangler does (of `env`'s binding, given one).
 *
 * @example
 * ```ts
 * const { migrationsDir } = await d1MigrationSettings("wrangler.toml") // "migrations/d1"
 * ```
 */
export async function d1MigrationSettings(config: string, env?: string): Promise<D1MigrationSettings> {
  const wrangler = loadWrangler();
  const binding = wrangler.unstable_readConfig({ config, env }).d1_databases.find((database: { binding: string }) => database.binding === "DB");
  return {
    migrationsDir: binding?.migrations_dir ?? "migrations",
    migrationsTable: binding?.migrations_table ?? "d1_migrations",
  };
}

/**
 * Every SQL-file migration in `dir` (relative to `root`), by name: wrangler's
 * `<dir>/*.sql` (name: the file name without `.sql`) and drizzle-kit's
 * `<dir>/<name>/migration.sql`, each with its optional `<dir>/down/<name>.sql`.
 * Throws on two files with one name and on a down file without its migration.
 *
 * @example
 * ```ts
 * const sources = await readSqlMigrations(".", "migrations/d1")
 * ```
 */
export async function readSqlMigrations(root: string, dir: string): Promise<Map<string, SqlFileMigrationSource>> {
  const entries = await readdir(path.join(root, dir), { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return [];
    throw error;
  });
  const files = new Map<string, string>();
  const add = (name: string, file: string) => {
    const other = files.get(name);
    if (other) throw new Error(`${other} and ${file} are both migration ${name}: rename one`);
    files.set(name, file);
  };
  // Files first, each kind by name: the same order, and the same error, on every file system.
  const ordered = [...entries].sort((a, b) => Number(a.isDirectory()) - Number(b.isDirectory()) || (a.name < b.name ? -1 : 1));
  for (const entry of ordered) {
    if (entry.isFile() && entry.name.endsWith(".sql")) add(entry.name.slice(0, -".sql".length), `${dir}/${entry.name}`);
    else if (entry.isDirectory() && entry.name !== "down" && (await isFile(path.join(root, dir, entry.name, "migration.sql")))) {
      add(entry.name, `${dir}/${entry.name}/migration.sql`);
    }
  }
  const downs = await readdir(path.join(root, dir, "down")).catch(() => [] as string[]);
  for (const down of downs.filter((file) => file.endsWith(".sql"))) {
    if (!files.has(down.slice(0, -".sql".length))) {
      throw new Error(`${dir}/down/${down} has no migration ${dir}/${down} to revert: rename it after its migration, or remove it`);
    }
  }
  const sources = new Map<string, SqlFileMigrationSource>();
  for (const [name, file] of [...files].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const text = await readFile(path.join(root, file), "utf8");
    const downFile = downFileFor(file, name);
    const downText = await readFile(path.join(root, downFile), "utf8").catch(() => undefined);
    sources.set(name, {
      file,
      ledgerName: path.basename(file) === "migration.sql" ? name : path.basename(file),
      sha256: createHash("sha256").update(text).digest("hex"),
      up: await splitSql(text),
      ...(downText !== undefined && { downFile, down: await splitSql(downText) }),
    });
  }
  return sources;
}

async function isFile(file: string): Promise<boolean> {
  return (await stat(file).catch(() => undefined))?.isFile() ?? false;
}
