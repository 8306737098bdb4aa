import { env } from "cloudflare:workers";
import { sql } from "kysely";
import { beforeAll, describe, expect, it } from "vitest";
import { CORPUS_SCHEMA, CORPUS_SEED, HOSTILE_SQL, type CorpusEntry } from "../support/migration-fixtures/hostile-sql-corpus";
import { oneMigration } from "../support/migration-fixtures/raw-sql-migrations";
import { d1Reader, schemaSnapshot } from "../support/migration-fixtures/schema-snapshot";
import { runMigrations } from "../support/run-migrations";

// Tests share this file's database; none changes it (previews, refusals).
const read = d1Reader(env.DB);

async function verdictOf(entry: CorpusEntry) {
  const queries = Array.isArray(entry.sql) ? entry.sql : [entry.sql];
  const answered: boolean[] = [];
  const report = await runMigrations(env.DB, { verb: "latest" }, {
    mode: "preview",
    migrations: oneMigration(async (db) => {
      for (const query of queries) answered.push((await sql.raw(query).execute(db)).rows.length > 0);
    }),
  });
  const message = String(report.error ?? "");
  const kind = /several SQL statements/.test(message)
    ? "several"
    : /RETURNING/.test(message)
      ? "returning"
      : report.error
        ? `error: ${message}`
        : answered.every(Boolean) && report.statements.length === 1
          ? "read"
          : report.statements.length === queries.length + 1 && answered.every((rows) => !rows)
            ? "write"
            : `mixed: ${JSON.stringify(answered)} / ${report.statements.length} buffered`;
  return { class: kind, refused: report.destructiveChanges.map((change) => `${change.kind} ${change.table}`) };
}

describe("hostile raw-SQL spellings, read by SQLite (scratch-D1 analyser)", () => {
  let schema: Record<string, unknown>;

  beforeAll(async () => {
    const primed = await runMigrations(env.DB, { verb: "latest" }, { migrations: {} });
    if (primed.error) throw primed.error;
    await env.DB.batch([...CORPUS_SCHEMA, ...CORPUS_SEED].map((statement) => env.DB.prepare(statement)));
    schema = await schemaSnapshot(read);
  });

  it.each(HOSTILE_SQL.map((entry) => [JSON.stringify(entry.sql), entry] as const))("%s", async (_, entry) => {
    expect(await verdictOf(entry)).toEqual({ class: entry.class, refused: entry.refused ?? [] });
    expect(await schemaSnapshot(read)).toEqual(schema);
  });
});
