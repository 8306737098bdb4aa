import type { Migration } from "kysely/migration";
import { listMigrations } from "../../src/db/migration/list-migrations";
import { compareChecksums, readRecordedChecksums, type MigrationChecksum } from "../../src/db/migration/migration-checksums";
import type { TargetOptions } from "./cli-flags";
import type { CommandOutput } from "./check-database";
import { describeEdit } from "./run-safeguards";
import { usingD1 } from "./using-d1";

/**
 * `pnpm kysely:migrate list`: every migration, applied (with its time) or
 * pending; an applied migration edited since is marked, explained on stderr,
 * and makes the exit code 1. Reads only (`onOpen` runs first on the same
 * database, e.g. to report a killed run).
 *
 * @example
 * ```ts
 * const { out, err, exitCode } = await listCommand(target, migrations, checksums)
 * ```
 */
export async function listCommand(
  target: TargetOptions,
  migrations: Record<string, Migration>,
  checksums: Readonly<Record<string, MigrationChecksum>>,
  onOpen?: (db: D1Database) => Promise<void>,
): Promise<CommandOutput> {
  const { rows, recorded } = await usingD1(target, async (db) => {
    await onOpen?.(db);
    return { rows: await listMigrations(db, migrations), recorded: await readRecordedChecksums(db) };
  });
  const applied = rows.filter((row) => row.executedAt).map((row) => row.name);
  const { edited } = compareChecksums({ applied, recorded, current: checksums, accept: [] });
  const width = Math.max(4, ...rows.map((row) => row.name.length));
  const out = [`${"name".padEnd(width)}  status`];
  for (const row of rows) {
    const mark = edited.some((migration) => migration.name === row.name) ? "  EDITED since applied" : "";
    out.push(`${row.name.padEnd(width)}  ${row.executedAt ? `applied ${row.executedAt.toISOString()}${mark}` : "pending"}`);
  }
  return { out, err: edited.flatMap(describeEdit), exitCode: edited.length > 0 ? 1 : 0 };
}
