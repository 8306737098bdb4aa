import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { runMigrations } from "../support/run-migrations";
import { categoryMigrations } from "../support/migration-fixtures/category-migrations";
import { d1Reader, tableRows } from "../support/migration-fixtures/schema-snapshot";

// A forced run's backup must restore what it saved, whatever order the rows
// come out in: D1 checks foreign keys on every insert unless deferred.
const read = d1Reader(env.DB);

/** Runs a backup file's statements the way `wrangler d1 execute --file` does: as one batch. */
async function restore(backupSql: string): Promise<void> {
  const statements = backupSql.split("\n").filter((line) => line && !line.startsWith("--"));
  await env.DB.batch(statements.map((statement) => env.DB.prepare(statement)));
}

describe("restoring a forced run's backup", () => {
  it("restores a self-referencing table whose children come before their parents, generated columns recomputed", async () => {
    const up = await runMigrations(env.DB, { verb: "latest" }, { migrations: categoryMigrations });
    expect(up.error).toBeUndefined();
    // Row 1 points at row 5: a dump in storage (rowid) order lists the child first.
    await env.DB.batch([
      env.DB.prepare(`insert into "category" ("id", "parentId", "name") values (5, null, 'Books')`),
      env.DB.prepare(`insert into "category" ("id", "parentId", "name") values (1, 5, 'Poetry')`),
    ]);
    const seeded = await tableRows(read, "category");
    expect(seeded).toEqual([
      { id: 1, parentId: 5, name: "Poetry", slug: "poetry", nameLength: 6 },
      { id: 5, parentId: null, name: "Books", slug: "books", nameLength: 5 },
    ]);

    const down = await runMigrations(env.DB, { verb: "down" }, { migrations: categoryMigrations, force: true });
    expect(down.error).toBeUndefined();
    // Generated columns are left out: SQLite refuses values for them and recomputes them.
    expect(down.backup!.sql.split("\n").filter((line) => line.startsWith("insert"))).toEqual([
      `insert into "category" ("id", "parentId", "name") values (1, 5, 'Poetry');`,
      `insert into "category" ("id", "parentId", "name") values (5, NULL, 'Books');`,
    ]);
    expect((await runMigrations(env.DB, { verb: "latest" }, { migrations: categoryMigrations })).error).toBeUndefined();

    await restore(down.backup!.sql);

    expect(await tableRows(read, "category")).toEqual(seeded);
  });
});
