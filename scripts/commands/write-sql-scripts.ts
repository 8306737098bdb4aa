import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { migrations } from "../../migrations/index";
import { captureMigrationSql } from "../lib/capture-migration-sql";
import { UsageError } from "../lib/cli-flags";
import type { CliIo } from "../lib/cli-io";
import { GENERATOR, renderDownScript, renderUpScript } from "../lib/render-sql-script";

export const USAGE = "usage: pnpm migrations:sql [--verify] [--out <dir>]";

/**
 * `pnpm migrations:sql [--verify] [--out <dir>]`: writes, for every registered
 * migration, `<dir>/<name>.up.sql` and `<name>.down.sql` (default dir:
 * migrations/sql), captured from the runner itself on a throwaway local D1.
 * The directory is generated as a whole: files of unregistered migrations go.
 * `--verify` writes nothing and exits 1 listing stale, missing and extra files.
 */
export async function writeSqlScripts(argv: readonly string[], io: CliIo): Promise<number> {
  const { verify, outDir } = parseArgs(argv);
  const captured = await captureMigrationSql(migrations);
  const expected = new Map<string, string>();
  for (const migration of captured.migrations) {
    expected.set(`${migration.name}.up.sql`, renderUpScript(migration, captured.ledgerTables));
    expected.set(`${migration.name}.down.sql`, renderDownScript(migration));
  }
  const present = await readSqlFiles(outDir);

  if (verify) {
    const problems = [
      ...[...expected].flatMap(([file, text]) =>
        !present.has(file) ? [`missing  ${path.join(outDir, file)}`] : present.get(file) !== text ? [`stale    ${path.join(outDir, file)}`] : [],
      ),
      ...[...present.keys()].filter((file) => !expected.has(file)).map((file) => `extra    ${path.join(outDir, file)}`),
    ];
    if (problems.length === 0) {
      io.out(`${outDir} is up to date (${expected.size} files)`);
      return 0;
    }
    io.err(`${outDir} is out of date with migrations/: run '${GENERATOR}' and commit the result`);
    for (const problem of problems) io.err(`  ${problem}`);
    return 1;
  }

  await mkdir(outDir, { recursive: true });
  for (const [file, text] of expected) await writeFile(path.join(outDir, file), text);
  for (const file of present.keys()) if (!expected.has(file)) await rm(path.join(outDir, file));
  io.out(`wrote ${expected.size} files to ${outDir}`);
  return 0;
}

function parseArgs(argv: readonly string[]): { verify: boolean; outDir: string } {
  let verify = false;
  let outDir = path.join("migrations", "sql");
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--verify") verify = true;
    else if (arg === "--out" && argv[i + 1] && !argv[i + 1]!.startsWith("--")) outDir = argv[++i]!;
    else throw new UsageError(arg === "--out" ? "--out needs a directory" : `unexpected argument '${arg}'`);
  }
  return { verify, outDir };
}

/** The `.sql` files of the directory by name (none when it does not exist). */
async function readSqlFiles(dir: string): Promise<Map<string, string>> {
  const names = await readdir(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return [];
    throw error;
  });
  const files = names.filter((name) => name.endsWith(".sql"));
  return new Map(await Promise.all(files.map(async (name) => [name, await readFile(path.join(dir, name), "utf8")] as const)));
}

