import { env } from "cloudflare:workers";
import type { Migration } from "kysely/migration";
import { describe, expect, it } from "vitest";
import { sqlFileMigration } from "../../src/db/migration/sql-file-migration";
import { runMigrations } from "../support/run-migrations";

// SQL-file migrations (wrangler's `<dir>/*.sql`, drizzle-kit's `<dir>/*/migration.sql`) as
// `pnpm migrations:d1` embeds them, run by the same runner as the Kysely ones.

const file = (name: string, up: string[], down?: string[]) =>
  sqlFileMigration(name, {
    file: `migrations/d1/${name}.sql`,
    ledgerName: `${name}.sql`,
    sha256: "0".repeat(64),
    up,
    ...(down && { downFile: `migrations/d1/down/${name}.sql`, down }),
  });

const registry: Record<string, Migration> = {
  "0000_projects": file("0000_projects", [`CREATE TABLE projects (id integer PRIMARY KEY, name text NOT NULL)`]),
  "0001_tasks": file(
    "0001_tasks",
    [`CREATE TABLE tasks (id integer PRIMARY KEY, project_id integer NOT NULL REFERENCES projects(id))`, `CREATE INDEX tasks_project_idx ON tasks (project_id)`],
    [`DROP TABLE tasks`],
  ),
  // A Kysely migration between two SQL files: one order, by name.
  "0002_labels": {
    up: (db) => db.schema.createTable("labels").addColumn("id", "integer", (col) => col.primaryKey()).execute(),
    down: (db) => db.schema.dropTable("labels").execute(),
  },
};

async function tables(db: D1Database): Promise<string[]> {
  const { results } = await db.prepare(`select name from sqlite_master where type = 'table' and name in ('projects', 'tasks', 'labels') order by name`).all<{ name: string }>();
  return results.map((row) => row.name);
}

async function applied(db: D1Database): Promise<string[]> {
  const { results } = await db.prepare(`select name from kysely_migration order by name`).all<{ name: string }>();
  return results.map((row) => row.name);
}

describe("SQL-file migrations beside Kysely ones", () => {
  it("run in name order with the Kysely ones, in one atomic batch", async () => {
    const report = await runMigrations(env.DB, { verb: "latest" }, { migrations: registry });

    expect(report.error).toBeUndefined();
    expect(report.results.map((result) => result.migrationName)).toEqual(["0000_projects", "0001_tasks", "0002_labels"]);
    expect(await tables(env.DB)).toEqual(["labels", "projects", "tasks"]);
  });

  it("a failing statement in a SQL file applies nothing of the run", async () => {
    await env.DB.exec(`drop table if exists tasks; drop table if exists labels; drop table if exists projects; delete from kysely_migration`).catch(() => {});
    const broken = { ...registry, "0001_tasks": file("0001_tasks", [`CREATE TABLE tasks (id integer PRIMARY KEY)`, `CREATE INDEX broken ON no_such_table (x)`]) };

    const report = await runMigrations(env.DB, { verb: "latest" }, { migrations: broken });

    expect(String(report.error)).toMatch(/no such table: main.no_such_table/);
    expect(await tables(env.DB)).toEqual([]);
    expect(await applied(env.DB)).toEqual([]);
  });

  it("reverts with its down file; without one, refuses with a line naming the file to write", async () => {
    const up = await runMigrations(env.DB, { verb: "latest" }, { migrations: registry });
    expect(up.error).toBeUndefined();
    expect((await runMigrations(env.DB, { verb: "down" }, { migrations: registry })).error).toBeUndefined();
    const withDown = await runMigrations(env.DB, { verb: "down" }, { migrations: registry });
    expect(withDown.error).toBeUndefined();
    expect(await tables(env.DB)).toEqual(["projects"]);

    const refused = await runMigrations(env.DB, { verb: "down" }, { migrations: registry });

    expect((refused.error as Error).message).toBe(
      "0000_projects is a SQL migration without a down file, so it cannot be reverted; to make it revertible, write migrations/d1/down/0000_projects.sql and run 'pnpm migrations:d1'",
    );
    expect(await tables(env.DB)).toEqual(["projects"]);
    expect(await applied(env.DB)).toEqual(["0000_projects"]);
  });

  it("a new SQL file sorting before the last applied migration is refused with a line naming it", async () => {
    await runMigrations(env.DB, { verb: "latest" }, { migrations: registry });
    const late = { ...registry, "0001_a_notes": file("0001_a_notes", [`CREATE TABLE notes (id integer PRIMARY KEY)`]) };

    const report = await runMigrations(env.DB, { verb: "latest" }, { migrations: late });

    expect((report.error as Error).message).toBe(
      "0001_a_notes is new but sorts before 0002_labels, the last applied migration: the runner applies migrations in name order only, so rename it to sort after 0002_labels (e.g. a later timestamp prefix) and run 'pnpm migrations:d1'",
    );
    expect(report.statements).toEqual([]);
    expect((await env.DB.prepare(`select count(*) as n from sqlite_master where name = 'notes'`).first<{ n: number }>())?.n).toBe(0);
  });
});
