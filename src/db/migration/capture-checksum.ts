import type { Migration } from "kysely/migration";
import { checksumOf, type MigrationChecksum } from "./migration-checksums";
import type { RunAnalyser } from "./run-analyser";
import { runMigrations } from "./run-migrations";

/** One migration's checksum, or why it could not be captured. */
export type CapturedChecksum = { checksum: MigrationChecksum; volatile: boolean } | { error: unknown };

/**
 * Captures the checksum of migration `name` on a throwaway database that is
 * migrated to the migration before it, then applies it (so the next one can
 * be captured). Its `up` is previewed twice: when the two differ (a
 * timestamp, a random id), the migration is `volatile` and its checksum
 * leaves the values out, so the same migration captured later still matches.
 *
 * @example
 * ```ts
 * for (const name of Object.keys(migrations).sort()) captured[name] = await captureChecksum(scratch, migrations, name, sqliteWasmAnalyser())
 * ```
 */
export async function captureChecksum(
  scratch: D1Database,
  migrations: Record<string, Migration>,
  name: string,
  analyser: RunAnalyser,
): Promise<CapturedChecksum> {
  const command = { verb: "to", target: name } as const;
  // force: the throwaway database's rows are nobody's.
  const first = await runMigrations(scratch, command, { migrations, analyser, mode: "preview", force: true });
  if (first.error) return { error: first.error };
  const second = await runMigrations(scratch, command, { migrations, analyser, mode: "preview", force: true });
  if (second.error) return { error: second.error };
  const applied = await runMigrations(scratch, command, { migrations, analyser, force: true });
  if (applied.error) return { error: applied.error };
  const [a, b] = [await checksumOf(first.statements), await checksumOf(second.statements)];
  // The ledger row's timestamp is left out by checksumOf, so any difference is the migration's own.
  return a.sha256 === b.sha256 ? { checksum: a, volatile: false } : { checksum: await checksumOf(first.statements, { values: false }), volatile: true };
}
