import { DEFAULT_MIGRATION_TABLE } from "kysely/migration";
import type { BufferedStatement } from "./batched-d1-dialect";
import { ledgerEntries } from "./ledger-entries";
import { statementText } from "./statement-text";

/** The runner's table of applied migrations' checksums (one row per applied migration). */
export const CHECKSUM_TABLE = "kysely_migration_checksum";

/** What a migration's `up` executes, as a checksum and the text it was computed from. */
export interface MigrationChecksum {
  /** SHA-256 (hex) of `upSql`. */
  sha256: string;
  /** The `up` statements, each followed by its parameters as a comment, each ending in `;` (the ledger write left out). */
  upSql: string;
}

/** A checksum row as stored in {@link CHECKSUM_TABLE}. */
export interface RecordedChecksum extends MigrationChecksum {
  name: string;
  recordedAt: string;
  /** `applied`: written by the run that applied it; `recorded`: applied before checksums were kept; `accepted`: `--accept-edited`; `adopted`: applied by another tool, recorded by `adopt`. */
  source: "applied" | "recorded" | "accepted" | "adopted";
}

/**
 * The checksum of one migration's `up` statements as the runner buffered them
 * (the Migrator's own ledger write, which carries a timestamp, is left out).
 * `values: false` leaves the parameters' values out (the `?` placeholders
 * stay), for a migration whose values change from run to run.
 *
 * @example
 * ```ts
 * await checksumOf(captured.up) // { sha256: "9f2c…", upSql: 'create table "user" (…);\n…' }
 * ```
 */
export async function checksumOf(statements: readonly BufferedStatement[], { values = true } = {}): Promise<MigrationChecksum> {
  const ledger = new Set(ledgerEntries(statements).map((entry) => entry.index));
  const upSql = statements
    .filter((_, index) => !ledger.has(index))
    .map((statement) => `${values ? statementText({ ...statement, inlined: undefined }) : statement.sql};\n`)
    .join("");
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(upSql));
  return { sha256: Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0")).join(""), upSql };
}

/**
 * The checksums recorded in the database, by migration name; empty before the
 * first run that kept checksums. Reads only.
 *
 * @example
 * ```ts
 * const recorded = await readRecordedChecksums(env.DB)
 * ```
 */
export async function readRecordedChecksums(database: D1Database): Promise<Map<string, RecordedChecksum>> {
  const exists = await database
    .prepare(`select 1 from sqlite_master where type = 'table' and name = ?`)
    .bind(CHECKSUM_TABLE)
    .first();
  if (!exists) return new Map();
  const { results } = await database
    .prepare(`select "name", "up_sha256" as sha256, "up_sql" as upSql, "recorded_at" as recordedAt, "source" from "${CHECKSUM_TABLE}"`)
    .all<RecordedChecksum>();
  return new Map(results.map((row) => [row.name, row]));
}

/**
 * The names of the applied migrations, in order (empty before the first run). Reads only.
 *
 * @example
 * ```ts
 * const applied = await readAppliedMigrations(env.DB)
 * ```
 */
export async function readAppliedMigrations(database: D1Database): Promise<string[]> {
  const exists = await database
    .prepare(`select 1 from sqlite_master where type = 'table' and name = ?`)
    .bind(DEFAULT_MIGRATION_TABLE)
    .first();
  if (!exists) return [];
  const { results } = await database.prepare(`select "name" from "${DEFAULT_MIGRATION_TABLE}" order by "name"`).all<{ name: string }>();
  return results.map((row) => row.name);
}

/** An applied migration whose `up` no longer executes what it executed when its checksum was recorded. */
export interface EditedMigration {
  name: string;
  recorded: RecordedChecksum;
  current: MigrationChecksum;
}

export interface ChecksumComparison {
  /** Applied, recorded, and the recorded checksum differs from the current one (and was not accepted). */
  edited: EditedMigration[];
  /** Edited and named in `accept`: its current checksum replaces the recorded one. */
  accepted: EditedMigration[];
  /** Applied but without a recorded checksum (applied before checksums were kept, or by hand): recorded now. */
  unrecorded: string[];
  /** Names in `accept` that are not edited applied migrations. */
  acceptedNeedlessly: string[];
}

/**
 * Compares the recorded checksums of the applied migrations with the current
 * ones. Applied migrations missing from `current` (not registered, or their
 * capture failed) are left to the Migrator, which refuses unknown ones.
 *
 * @example
 * ```ts
 * const { edited } = compareChecksums({ applied, recorded, current, accept: [] })
 * ```
 */
export function compareChecksums(input: {
  applied: readonly string[];
  recorded: ReadonlyMap<string, RecordedChecksum>;
  current: Readonly<Record<string, MigrationChecksum>>;
  accept: readonly string[];
}): ChecksumComparison {
  const comparison: ChecksumComparison = { edited: [], accepted: [], unrecorded: [], acceptedNeedlessly: [] };
  for (const name of input.applied) {
    const current = input.current[name];
    if (!current) continue;
    const recorded = input.recorded.get(name);
    if (!recorded) comparison.unrecorded.push(name);
    else if (recorded.sha256 !== current.sha256) {
      (input.accept.includes(name) ? comparison.accepted : comparison.edited).push({ name, recorded, current });
    }
  }
  const accepted = new Set(comparison.accepted.map((migration) => migration.name));
  comparison.acceptedNeedlessly = input.accept.filter((name) => !accepted.has(name));
  return comparison;
}

/**
 * The statements that keep {@link CHECKSUM_TABLE} in step with a run, to be
 * sent in the run's own batch: the checksum of every migration the run
 * applies (from `current`), deleted for every one it reverts, and the rows of
 * `record` (unrecorded or accepted migrations). Empty when there is nothing to write.
 *
 * @example
 * ```ts
 * const extra = checksumStatements(run.statements, current, [{ name, checksum, source: "recorded" }], new Date())
 * ```
 */
export function checksumStatements(
  runStatements: readonly BufferedStatement[],
  current: Readonly<Record<string, MigrationChecksum>>,
  record: readonly { name: string; checksum: MigrationChecksum; source: RecordedChecksum["source"] }[],
  now: Date,
): BufferedStatement[] {
  const writes: BufferedStatement[] = [];
  const upsert = (name: string, checksum: MigrationChecksum, source: RecordedChecksum["source"]) =>
    writes.push({
      sql: `insert into "${CHECKSUM_TABLE}" ("name", "up_sha256", "up_sql", "recorded_at", "source") values (?, ?, ?, ?, ?) on conflict ("name") do update set "up_sha256" = excluded."up_sha256", "up_sql" = excluded."up_sql", "recorded_at" = excluded."recorded_at", "source" = excluded."source"`,
      parameters: [name, checksum.sha256, checksum.upSql, now.toISOString(), source],
    });
  for (const { name, checksum, source } of record) upsert(name, checksum, source);
  for (const { migrationName, direction } of ledgerEntries(runStatements)) {
    if (direction === "Down") {
      writes.push({ sql: `delete from "${CHECKSUM_TABLE}" where "name" = ?`, parameters: [migrationName] });
    } else if (current[migrationName]) {
      upsert(migrationName, current[migrationName], "applied");
    } else {
      // No checksum to hand (its capture failed): none is recorded, and the next run records it.
      writes.push({ sql: `delete from "${CHECKSUM_TABLE}" where "name" = ?`, parameters: [migrationName] });
    }
  }
  if (writes.length === 0) return [];
  // Created in the batch too, so a database never holds the table without the rows.
  return [
    {
      sql: `create table if not exists "${CHECKSUM_TABLE}" ("name" varchar(255) not null primary key, "up_sha256" text not null, "up_sql" text not null, "recorded_at" text not null, "source" text not null)`,
      parameters: [],
    },
    ...writes,
  ];
}
