import type { Migration } from "kysely/migration";
import { diffSchemaFacts, formatSchemaDifference } from "../../src/db/migration/diff-schema-facts";
import {
  compareChecksums,
  readAppliedMigrations,
  readRecordedChecksums,
} from "../../src/db/migration/migration-checksums";
import { readSchemaFacts, type ReadRows } from "../../src/db/migration/read-schema-facts";
import type { TargetOptions } from "./cli-flags";
import type { CurrentChecksums } from "./current-checksums";
import { describeEdit } from "./run-safeguards";
import { usingD1 } from "./using-d1";

/** What a `kysely:migrate` command prints (`out` on stdout, `err` on stderr) and its exit code. */
export interface CommandOutput {
  out: string[];
  err: string[];
  exitCode: 0 | 1;
}

/**
 * `pnpm kysely:migrate check`: compares the target database's schema with
 * the schema its applied migrations create on a throwaway local D1 (captured,
 * and cached, with the checksums), and the applied migrations' recorded
 * checksums with the current ones. Reads only.
 *
 * @example
 * ```ts
 * const { out, err, exitCode } = await checkDatabase(target, migrations, await currentChecksums(migrations))
 * ```
 */
export async function checkDatabase(
  target: TargetOptions,
  migrations: Record<string, Migration>,
  { checksums, schemaAfter, captureError }: CurrentChecksums,
): Promise<CommandOutput> {
  const live = await usingD1(target, async (database) => ({
    applied: await readAppliedMigrations(database),
    recorded: await readRecordedChecksums(database),
    facts: await readSchemaFacts(reader(database)),
  }));
  const names = Object.keys(migrations).sort();
  const unregistered = live.applied.filter((name) => !migrations[name]);
  if (unregistered.length > 0) {
    return fail([`error: the database has applied ${unregistered.join(", ")}, which migrations/index.ts does not register; check out the code that applied it`]);
  }
  const skipped = names.slice(0, live.applied.length).filter((name) => !live.applied.includes(name));
  if (skipped.length > 0) {
    return fail([`error: the database has applied migrations after ${skipped[0]} but not ${skipped[0]} itself; the runner only applies them in order`]);
  }

  const { edited, unrecorded } = compareChecksums({ applied: live.applied, recorded: live.recorded, current: checksums, accept: [] });
  const last = live.applied.at(-1);
  if (last && !schemaAfter[last]) {
    const failed = captureError ? `${captureError.migration} fails on a fresh database: ${captureError.error instanceof Error ? captureError.error.message : String(captureError.error)}` : "its capture failed";
    return fail([`error: cannot build the schema the applied migrations create: ${failed}`]);
  }
  const expected = new Map(last ? schemaAfter[last] : []);
  const differences = diffSchemaFacts(expected, live.facts);

  const where = target.remote ? `remote D1${target.env ? ` (env ${target.env})` : ""}` : `local D1 (${target.persistTo ?? ".wrangler/state"})`;
  const out = [
    `checked  ${where} against its ${live.applied.length} applied migration(s)${live.applied.length ? `, the last ${live.applied.at(-1)}` : ""}`,
    ...unrecorded.map((name) => `note     no checksum recorded yet for ${name} (applied before checksums were kept); the next run records it`),
    ...differences.map((difference) => `drift    ${formatSchemaDifference(difference)}`),
  ];
  const err = [
    ...edited.flatMap(describeEdit),
    ...(differences.length > 0
      ? [
          `error: the schema differs from what the applied migrations create: ${differences.length} difference(s) (+ only in the database, - only in the migrations, ~ migrations → database)`,
          "  to proceed: make the change in a migration ('pnpm kysely:migrate make <name>'), or undo it by hand",
        ]
      : []),
  ];
  if (err.length > 0) return { out, err, exitCode: 1 };
  const count = (kind: string) => [...expected.keys()].filter((key) => key.startsWith(`${kind} `)).length;
  out.push(`no drift: ${count("table")} tables, ${count("column")} columns, ${count("index")} indexes, ${count("foreign key")} foreign keys, ${count("trigger")} triggers as the migrations create them`);
  return { out, err, exitCode: 0 };
}

function reader(database: D1Database): ReadRows {
  return async (sql) => (await database.prepare(sql).all<Record<string, unknown>>()).results;
}

function fail(err: string[]): CommandOutput {
  return { out: [], err, exitCode: 1 };
}
