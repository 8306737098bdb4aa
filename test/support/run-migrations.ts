import { env } from "cloudflare:workers";
import { d1ScratchAnalyser } from "../../src/db/migration/d1-scratch-engine";
import {
  runMigrations as runWithAnalyser,
  type MigrationCommand,
  type MigrationRunReport,
  type RunMigrationsOptions,
} from "../../src/db/migration/run-migrations";

export type { MigrationCommand, MigrationRunReport };
export type WorkerdRunOptions = Omit<RunMigrationsOptions, "analyser">;
export type { WorkerdRunOptions as RunMigrationsOptions };

/** The test config's second D1 binding: an empty database the analyser copies schemas into (never the app's). */
export const scratchDatabase = (env as unknown as { MIGRATION_SCRATCH: D1Database }).MIGRATION_SCRATCH;

/**
 * `runMigrations` inside workerd, with the analyser it can host there (a
 * scratch local D1: workerd cannot compile WebAssembly at run time).
 *
 * @example
 * ```ts
 * await runMigrations(env.DB, { verb: "latest" }, { migrations })
 * ```
 */
export function runMigrations(database: D1Database, command: MigrationCommand, options: WorkerdRunOptions): Promise<MigrationRunReport> {
  return runWithAnalyser(database, command, { ...options, analyser: d1ScratchAnalyser(scratchDatabase) });
}
