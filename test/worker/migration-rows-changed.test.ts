import { env } from "cloudflare:workers";
import type { Kysely } from "kysely";
import { beforeAll, describe, expect, it } from "vitest";
import { formatRunReport } from "../../scripts/lib/format-run-report";
import { RowsChangedError } from "../../src/db/migration/apply-batch";
import type { RowBackup } from "../../src/db/migration/backup-rows";
import { runMigrations } from "../support/run-migrations";
import { UnsafeMigrationError } from "../../src/db/migration/unsafe-migration-error";
import { notebookMigrations } from "../support/migration-fixtures/notebook-migrations";
import { notebookState } from "../support/migration-fixtures/notebook-state";
import { d1Reader } from "../support/migration-fixtures/schema-snapshot";

// Tests share this file's database and run in order; each starts from the state the previous one left.
const read = d1Reader(env.DB);
const [NAME] = Object.keys(notebookMigrations) as [string];

const databaseState = () => notebookState(read);

/**
 * The local D1, except that `write` runs (to completion) just before the first
 * batch sent through it, i.e. after the runner counted (and backed up) the
 * rows: the live app writing in that instant. Reads and later batches (the
 * failure locator's probes) go straight through.
 */
function d1WritingBeforeFirstBatch(write: () => Promise<unknown>): D1Database {
  let batches = 0;
  return new Proxy(env.DB, {
    get(target, property) {
      if (property === "batch") {
        return async (statements: D1PreparedStatement[]) => {
          if (++batches === 1) await write();
          return target.batch(statements);
        };
      }
      const value = Reflect.get(target, property);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

describe("a table that gains rows between the guard's count and the batch", () => {
  beforeAll(async () => {
    const report = await runMigrations(env.DB, { verb: "latest" }, { migrations: notebookMigrations });
    if (report.error) throw report.error;
  });

  it("counted empty: the drop fails the batch, the new row and the schema stay, and the CLI says to run again", async () => {
    const before = await databaseState();
    const database = d1WritingBeforeFirstBatch(() => env.DB.prepare(`insert into notebook (id, title) values (1, 'written meanwhile')`).run());

    const report = await runMigrations(database, { verb: "down" }, { migrations: notebookMigrations });

    expect(report.error).toBeInstanceOf(RowsChangedError);
    expect(report.error).toMatchObject({ table: "notebook", countedRows: 0 });
    expect(formatRunReport(report)).toEqual({
      lines: [
        `not run  ${NAME}`,
        `error: table "notebook" changed while this run was being applied (0 row(s) counted); nothing was applied — run again`,
        "nothing was applied: the run is one atomic D1 batch",
      ],
      exitCode: 1,
    });
    expect(await databaseState()).toEqual({ ...before, notebooks: [{ id: "1", title: "'written meanwhile'" }] });

    // Run again, the row is counted, and the guard refuses to drop it.
    const again = await runMigrations(env.DB, { verb: "down" }, { migrations: notebookMigrations });
    expect(again.error).toBeInstanceOf(UnsafeMigrationError);
  });

  it("forced: a row written after the backup fails the batch; nothing is applied, the backup holds the counted rows", async () => {
    await env.DB.prepare(`insert into note (id, notebookId, body) values (1, 1, 'counted')`).run();
    const before = await databaseState();
    const saved: RowBackup[] = [];
    const database = d1WritingBeforeFirstBatch(() =>
      env.DB.prepare(`insert into note (id, notebookId, body) values (2, 1, 'written after the backup')`).run(),
    );

    const report = await runMigrations(database, { verb: "down" }, {
      migrations: notebookMigrations,
      force: true,
      saveBackup: async (backup) => void saved.push(backup),
    });

    expect(report.error).toBeInstanceOf(RowsChangedError);
    expect(report.error).toMatchObject({ table: "note", countedRows: 1 });
    const counted = [
      { table: "notebook", rows: 1 },
      { table: "note", rows: 1 },
    ];
    expect(saved.map((backup) => backup.tables)).toEqual([counted]);
    expect(report.backup?.tables).toEqual(counted);
    expect(report.backup?.sql).not.toContain("written after the backup");
    expect(await databaseState()).toEqual({
      ...before,
      notes: [...before.notes, { id: "2", notebookId: "1", body: "'written after the backup'", weight: "NULL", checksum: "NULL", sequence: "NULL" }],
    });
  });

  it("a run that itself writes to a counted table before dropping it still applies (the check sits where the count holds)", async () => {
    const reseed: Record<string, typeof notebookMigrations[string]> = {
      ...notebookMigrations,
      "20000301000001_reseed_and_drop": {
        async up(db: Kysely<any>) {
          await db.insertInto("notebook").values({ id: 9, title: "added by the run" }).execute();
          await db.schema.dropTable("note").execute();
          await db.schema.dropTable("notebook").execute();
        },
      },
    };

    const report = await runMigrations(env.DB, { verb: "latest" }, { migrations: reseed, force: true });

    expect(report.error).toBeUndefined();
    expect(report.backup?.tables).toEqual([
      { table: "notebook", rows: 1 },
      { table: "note", rows: 2 },
    ]);
    expect(await read(`select name from sqlite_master where name in ('note', 'notebook')`)).toEqual([]);
  });
});
