import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { formatRunReport } from "../../scripts/lib/format-run-report";
import { runMigrations } from "../support/run-migrations";
import { UnsafeMigrationError } from "../../src/db/migration/unsafe-migration-error";
import { CREATE_FAMILY, familyMigrations, REBUILD_AUTHOR } from "../support/migration-fixtures/family-migrations";
import { d1Reader, exactRows, ledgerSnapshot, schemaSnapshot } from "../support/migration-fixtures/schema-snapshot";

// Tests share this file's database and run in order.
const read = d1Reader(env.DB);
const CHILD_TABLES = ["book", "review", "fan_note", "loan"];

async function childRows() {
  return Object.fromEntries(await Promise.all(CHILD_TABLES.map(async (table) => [table, await exactRows(read, table)])));
}

async function databaseState() {
  return { schema: await schemaSnapshot(read), ledger: await ledgerSnapshot(read), authors: await exactRows(read, "author"), children: await childRows() };
}

describe("rebuilding a parent table whose children D1 would change", () => {
  let seeded: Awaited<ReturnType<typeof databaseState>>;

  beforeAll(async () => {
    const report = await runMigrations(env.DB, { verb: "latest" }, { migrations: familyMigrations.createOnly });
    if (report.error) throw report.error;
    await env.DB.batch([
      env.DB.prepare(`insert into author (id, name) values (1, 'Ursula'), (2, 'Terry')`),
      env.DB.prepare(`insert into book (id, authorId, title) values (1, 1, 'Earthsea'), (2, 2, 'Mort'), (3, 2, 'Guards! Guards!')`),
      env.DB.prepare(`insert into review (id, bookId, stars) values (1, 1, 5), (2, 3, 4)`),
      env.DB.prepare(`insert into fan_note (id, authorId, text) values (1, 1, 'wizard'), (2, 2, 'turtles')`),
      env.DB.prepare(`insert into loan (id, authorId) values (1, 2)`),
    ]);
    seeded = await databaseState();
  });

  it("a textbook rebuild is refused, even with --force, naming the children and why; no row is lost", async () => {
    const report = await runMigrations(env.DB, { verb: "latest" }, { migrations: familyMigrations.naiveRebuild, force: true });

    expect(report.error).toBeInstanceOf(UnsafeMigrationError);
    expect((report.error as UnsafeMigrationError).changes).toEqual([
      {
        kind: "changes-children",
        migration: REBUILD_AUTHOR,
        statementIndex: 2,
        table: "author",
        rebuild: true,
        // loan (NO ACTION) is not listed: D1 would fail the drop loudly instead.
        children: [
          { table: "book", onDelete: "CASCADE" },
          { table: "fan_note", onDelete: "SET NULL" },
        ],
      },
    ]);
    const { lines, exitCode } = formatRunReport(report);
    expect(exitCode).toBe(1);
    expect(lines).toEqual([
      `not run  ${REBUILD_AUTHOR}`,
      `error: ${REBUILD_AUTHOR}: statement #3 rebuilds (drops and recreates) table "author", which "book" (ON DELETE CASCADE), "fan_note" (ON DELETE SET NULL) reference: D1 always enforces foreign keys, so dropping it deletes or changes their rows`,
      `  to proceed: keep the children's rows in the same migration (rebuildTable in src/db/migration/rebuild-table.ts does) and declare it with 'export const handlesChildrenOf = ["author"]'; --force does not lift this`,
      "nothing was applied: the run was refused before it was sent",
    ]);
    expect(await databaseState()).toEqual(seeded);
  });

  it("rebuildTable without the declaration is refused just the same", async () => {
    const report = await runMigrations(env.DB, { verb: "latest" }, { migrations: familyMigrations.undeclaredSafeRebuild, force: true });

    expect((report.error as UnsafeMigrationError).changes.map((change) => change.kind)).toEqual(["changes-children"]);
    expect(await databaseState()).toEqual(seeded);
  });

  it("the declared rebuildTable still needs --force, as the parent's rows are dropped and copied", async () => {
    const report = await runMigrations(env.DB, { verb: "latest" }, { migrations: familyMigrations.safeRebuild });

    expect((report.error as UnsafeMigrationError).changes).toMatchObject([
      { kind: "drops-rows", migration: REBUILD_AUTHOR, table: "author", rows: 2, rebuild: true },
    ]);
    expect(await databaseState()).toEqual(seeded);
  });

  it("the declared rebuildTable with --force keeps every child row and applies the new definition", async () => {
    const report = await runMigrations(env.DB, { verb: "latest" }, { migrations: familyMigrations.safeRebuild, force: true });

    expect(report.error).toBeUndefined();
    expect(report.results).toEqual([{ migrationName: REBUILD_AUTHOR, direction: "Up", status: "Success" }]);
    expect(report.backup?.tables).toEqual([{ table: "author", rows: 2 }]);
    expect(await childRows()).toEqual(seeded.children);
    expect(await read(`select id, name, country from author order by id`)).toEqual([
      { id: 1, name: "Ursula", country: "unknown" },
      { id: 2, name: "Terry", country: "unknown" },
    ]);
    expect(await read(`select * from pragma_foreign_key_check`)).toEqual([]);
    // Nothing of the helper's scaffolding is left; the children's definitions are untouched.
    const schema = await schemaSnapshot(read);
    expect((schema.objects as { name: string }[]).map((object) => object.name).filter((name) => name.startsWith("__"))).toEqual([]);
    expect((schema.tables as Record<string, unknown>).book).toEqual((seeded.schema.tables as Record<string, unknown>).book);
    expect((await ledgerSnapshot(read)).migrations).toMatchObject([{ name: CREATE_FAMILY }, { name: REBUILD_AUTHOR }]);
  });

  it("after the rebuild, the children's foreign keys still act on the new parent", async () => {
    await env.DB.prepare(`delete from loan where authorId = 2`).run();
    await env.DB.prepare(`delete from author where id = 2`).run();

    expect(await read(`select id from book order by id`)).toEqual([{ id: 1 }]);
    expect(await read(`select id from review order by id`)).toEqual([{ id: 1 }]);
    expect(await read(`select id, authorId from fan_note order by id`)).toEqual([
      { id: 1, authorId: 1 },
      { id: 2, authorId: null },
    ]);
  });
});
