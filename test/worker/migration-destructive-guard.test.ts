import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { formatRunReport } from "../../scripts/lib/format-run-report";
import type { RowBackup } from "../../src/db/migration/backup-rows";
import { runMigrations } from "../support/run-migrations";
import { UnsafeMigrationError } from "../../src/db/migration/unsafe-migration-error";
import { notebookMigrations } from "../support/migration-fixtures/notebook-migrations";
import { notebookState } from "../support/migration-fixtures/notebook-state";
import { d1Reader, exactRows } from "../support/migration-fixtures/schema-snapshot";

// Tests share this file's database and run in order.
const read = d1Reader(env.DB);
const [NAME] = Object.keys(notebookMigrations) as [string];

const databaseState = () => notebookState(read);

describe("a run that drops rows", () => {
  let seeded: Awaited<ReturnType<typeof databaseState>>;

  beforeAll(async () => {
    const report = await runMigrations(env.DB, { verb: "latest" }, { migrations: notebookMigrations });
    if (report.error) throw report.error;
    // Values that a careless dump would get wrong: quotes, newlines, NULL, a blob, a real, an integer beyond 2^53.
    await env.DB.batch([
      env.DB.prepare(`insert into notebook (id, title) values (1, 'It''s mine'), (2, 'Ünïcødé ✓')`),
      env.DB.prepare(
        `insert into note (id, notebookId, body, weight, checksum, sequence) values
           (1, 1, 'line one' || char(10) || 'line two', 0.1 + 0.2, x'00ff10', 9007199254740993),
           (2, 1, null, -1.5e300, null, -1),
           (3, 2, '; drop table note; --', 0, x'', 0)`,
      ),
    ]);
    seeded = await databaseState();
  });

  it("is refused without --force: names each table and its row count, says how to proceed, changes nothing", async () => {
    const report = await runMigrations(env.DB, { verb: "down" }, { migrations: notebookMigrations });

    expect(report.error).toBeInstanceOf(UnsafeMigrationError);
    expect((report.error as UnsafeMigrationError).changes).toEqual([
      { kind: "drops-rows", migration: NAME, statementIndex: 0, table: "note", rowsOf: "note", rows: 3, rebuild: false },
      { kind: "drops-rows", migration: NAME, statementIndex: 1, table: "notebook", rowsOf: "notebook", rows: 2, rebuild: false },
    ]);
    const { lines, exitCode } = formatRunReport(report);
    expect(exitCode).toBe(1);
    expect(lines).toEqual([
      `not run  ${NAME}`,
      `error: ${NAME}: statement #1 drops table "note", which holds 3 row(s)`,
      "  to proceed: run again with --force; it first writes these rows to a backup file (SQL inserts, restorable with 'wrangler d1 execute --file')",
      `error: ${NAME}: statement #2 drops table "notebook", which holds 2 row(s)`,
      "  to proceed: run again with --force; it first writes these rows to a backup file (SQL inserts, restorable with 'wrangler d1 execute --file')",
      "nothing was applied: the run was refused before it was sent",
    ]);
    expect(report.backup).toBeUndefined();
    expect(await databaseState()).toEqual(seeded);
  });

  it("is previewed with the same findings and nothing refused or changed", async () => {
    const report = await runMigrations(env.DB, { verb: "down" }, { migrations: notebookMigrations, mode: "preview" });

    expect(report.error).toBeUndefined();
    expect(report.destructiveChanges.map((change) => [change.table, change.kind === "drops-rows" && change.rows])).toEqual([
      ["note", 3],
      ["notebook", 2],
    ]);
    expect(await databaseState()).toEqual(seeded);
  });

  let backup: RowBackup;

  it("with --force, saves the backup before the batch, then applies", async () => {
    const seenBySaveBackup: unknown[] = [];
    const report = await runMigrations(env.DB, { verb: "down" }, {
      migrations: notebookMigrations,
      force: true,
      saveBackup: async (saved) => {
        seenBySaveBackup.push({ tables: saved.tables, notesThen: await exactRows(read, "note") });
      },
    });

    expect(report.error).toBeUndefined();
    expect(report.results).toEqual([{ migrationName: NAME, direction: "Down", status: "Success" }]);
    backup = report.backup!;
    expect(backup.tables).toEqual([
      { table: "notebook", rows: 2 },
      { table: "note", rows: 3 },
    ]);
    // Saved once, while nothing had been dropped yet.
    expect(seenBySaveBackup).toEqual([{ tables: backup.tables, notesThen: seeded.notes }]);
    expect(await read(`select name from sqlite_master where name in ('note', 'notebook')`)).toEqual([]);
  });

  it("the backup SQL, run against the tables recreated empty, restores every row exactly", async () => {
    const report = await runMigrations(env.DB, { verb: "latest" }, { migrations: notebookMigrations });
    expect(report.error).toBeUndefined();
    expect(await exactRows(read, "note")).toEqual([]);

    // D1's exec() runs one statement per line but, unlike `wrangler d1 execute
    // --file` (exercised by the CLI test), rejects comment lines.
    await env.DB.exec(backup.sql.split("\n").filter((line) => line && !line.startsWith("--")).join("\n"));

    expect(await exactRows(read, "notebook")).toEqual(seeded.notebooks);
    expect(await exactRows(read, "note")).toEqual(seeded.notes);
  });
});
