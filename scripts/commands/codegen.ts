import { execFile } from "node:child_process";
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { migrations } from "../../migrations/index";
import { runMigrations } from "../../src/db/migration/run-migrations";
import { sqliteWasmAnalyser } from "../../src/db/migration/sqlite-wasm-analyser";
import { enumColumnOverrides } from "../lib/enum-column-overrides";
import { UsageError } from "../lib/cli-flags";
import type { CliIo } from "../lib/cli-io";
import { usingD1 } from "../lib/using-d1";

const CONFIG_FILE = ".kysely-codegenrc.json";
const OUT_FILE = "src/db/generated.ts";
export const USAGE = "usage: pnpm codegen [--verify]";

/**
 * `pnpm codegen [--verify]`: writes src/db/generated.ts (Kysely's DB types).
 *
 * Every migration is applied to a throwaway local D1, which kysely-codegen
 * then introspects, so the types never depend on a developer's own database.
 * Enum columns are typed from the Drizzle tables' enum lists (one source),
 * the other overrides from .kysely-codegenrc.json.
 * `--verify` writes nothing and exits 1 when the committed file is stale.
 */
export async function codegen(argv: readonly string[], io: CliIo): Promise<number> {
  const verify = argv.includes("--verify");
  const unknown = argv.filter((arg) => arg !== "--verify");
  if (unknown.length > 0) throw new UsageError(`unknown argument '${unknown[0]}'`);

  const stateDir = await mkdtemp(path.join(tmpdir(), "codegen-d1-"));
  try {
    const outFile = verify ? path.join(stateDir, "generated.ts") : OUT_FILE;
    await generate(stateDir, outFile);
    if (!verify) {
      io.out(`wrote ${OUT_FILE}`);
      return 0;
    }
    const [expected, committed] = await Promise.all([readFile(outFile, "utf8"), readFile(OUT_FILE, "utf8").catch(() => "")]);
    if (expected !== committed) {
      io.err(`${OUT_FILE} is out of date with migrations/: run 'pnpm codegen' and commit the result`);
      return 1;
    }
    io.out(`${OUT_FILE} is up to date`);
    return 0;
  } finally {
    await rm(stateDir, { recursive: true, force: true });
  }
}

async function generate(stateDir: string, outFile: string): Promise<void> {
  const target = { remote: false, env: undefined, persistTo: stateDir, config: "wrangler.toml" };
  await usingD1(target, async (db) => {
    const report = await runMigrations(db, { verb: "latest" }, { migrations, analyser: sqliteWasmAnalyser() });
    if (report.error) throw report.error;
  });
  const sqliteFile = await findDatabaseFile(stateDir);
  const config = JSON.parse(await readFile(CONFIG_FILE, "utf8")) as { overrides?: { columns?: Record<string, string> } };
  const configFile = path.join(stateDir, "kysely-codegenrc.json");
  const columns = { ...config.overrides?.columns, ...enumColumnOverrides() };
  await writeFile(configFile, JSON.stringify({ ...config, overrides: { ...config.overrides, columns } }));
  await promisify(execFile)("kysely-codegen", [
    "--config-file", configFile,
    "--url", `file:${sqliteFile}`,
    "--out-file", outFile,
    "--log-level", "error",
  ]);
}

/** Miniflare keeps one SQLite file per D1 database, next to its own metadata.sqlite. */
async function findDatabaseFile(stateDir: string): Promise<string> {
  const dir = path.join(stateDir, "v3", "d1", "miniflare-D1DatabaseObject");
  const files = (await readdir(dir)).filter((file) => file.endsWith(".sqlite") && file !== "metadata.sqlite");
  if (files.length !== 1) throw new Error(`expected one D1 database in ${dir}, found ${files.length}`);
  return path.join(dir, files[0]!);
}

