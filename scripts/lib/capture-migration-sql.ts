import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { DEFAULT_MIGRATION_LOCK_TABLE, DEFAULT_MIGRATION_TABLE, type Migration } from "kysely/migration";
import type { BufferedStatement } from "../../src/db/migration/batched-d1-dialect";
import { isRevertible } from "../../src/db/migration/sql-file-migration";
import { sqliteWasmAnalyser } from "../../src/db/migration/sqlite-wasm-analyser";
import { runMigrations, type MigrationCommand, type MigrationRunReport } from "../../src/db/migration/run-migrations";
import { usingD1 } from "./using-d1";

/** One migration's statements, as the runner would send them. */
export interface MigrationSql {
  name: string;
  up: BufferedStatement[];
  /** Undefined when the migration has no `down`. */
  down: BufferedStatement[] | undefined;
}

export interface CapturedSql {
  /** `CREATE TABLE` statements of the Migrator's ledger tables, as it creates them. */
  ledgerTables: string[];
  migrations: MigrationSql[];
}

/**
 * Captures, for every registered migration in order, the statements the
 * runner executes to apply it (previewed on a throwaway local D1 migrated to
 * the migration before it) and to revert it (previewed once it is applied).
 *
 * @example
 * ```ts
 * const { migrations: captured } = await captureMigrationSql(migrations)
 * ```
 */
export function captureMigrationSql(migrations: Record<string, Migration>): Promise<CapturedSql> {
  // The capture replays the whole history on a workerd (seconds of CPU) and
  // depends only on code that cannot change within a process: a second call
  // (a write then a --verify in one process) reuses the first. A failed
  // capture is not kept.
  let captured = capturedByRegistry.get(migrations);
  if (!captured) {
    captured = capture(migrations);
    capturedByRegistry.set(migrations, captured);
    captured.catch(() => capturedByRegistry.delete(migrations));
  }
  return captured;
}

const capturedByRegistry = new WeakMap<Record<string, Migration>, Promise<CapturedSql>>();

async function capture(migrations: Record<string, Migration>): Promise<CapturedSql> {
  const stateDir = await mkdtemp(path.join(tmpdir(), "migration-sql-"));
  try {
    const target = { remote: false, env: undefined, persistTo: stateDir, config: "wrangler.toml" };
    const analyser = sqliteWasmAnalyser();
    return await usingD1(target, async (database) => {
      const run = async (command: MigrationCommand, mode: "apply" | "preview"): Promise<MigrationRunReport> => {
        // force: the throwaway database's rows are nobody's; the parent-table guard still applies.
        const report = await runMigrations(database, command, { migrations, analyser, mode, force: true });
        if (report.error) throw report.error;
        return report;
      };
      // An empty run makes the Migrator create its ledger tables.
      await runMigrations(database, { verb: "latest" }, { migrations: {}, analyser });
      const ledgerTables = await database
        .prepare(`select sql from sqlite_master where type = 'table' and name in (?, ?) order by name`)
        .bind(DEFAULT_MIGRATION_TABLE, DEFAULT_MIGRATION_LOCK_TABLE)
        .all<{ sql: string }>();

      const captured: MigrationSql[] = [];
      for (const name of Object.keys(migrations).sort()) {
        const up = (await run({ verb: "to", target: name }, "preview")).statements;
        await run({ verb: "to", target: name }, "apply");
        const down = isRevertible(migrations[name]!) ? (await run({ verb: "down" }, "preview")).statements : undefined;
        captured.push({ name, up, down });
      }
      return { ledgerTables: ledgerTables.results.map((row) => row.sql), migrations: captured };
    });
  } finally {
    await rm(stateDir, { recursive: true, force: true });
  }
}
