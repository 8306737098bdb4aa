import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { d1Reader } from "../support/migration-fixtures/schema-snapshot";

// The D1 behaviour the migration runner and its guards are built on, checked
// against local D1 so a workerd upgrade that changes it fails loudly.
const read = d1Reader(env.DB);
const prepare = (sql: string) => env.DB.prepare(sql);

describe("D1 facts the migration runner relies on", () => {
  beforeEach(async () => {
    // Tests in this file share one database: start each from the same family.
    await env.DB.batch([
      prepare(`drop table if exists c_cascade`),
      prepare(`drop table if exists c_set_null`),
      prepare(`drop table if exists c_no_action`),
      prepare(`drop table if exists p_old`),
      prepare(`drop table if exists p`),
      prepare(`create table p (id integer primary key, name text)`),
      prepare(`create table c_cascade (id integer primary key, pId integer references p(id) on delete cascade)`),
      prepare(`create table c_set_null (id integer primary key, pId integer references p(id) on delete set null)`),
      prepare(`create table c_no_action (id integer primary key, pId integer references p(id))`),
      prepare(`insert into p values (1, 'a'), (2, 'b')`),
      prepare(`insert into c_cascade values (1, 1), (2, 2)`),
      prepare(`insert into c_set_null values (1, 1)`),
    ]);
  });

  it("a batch is one transaction: a failing last statement undoes DDL and rows before it", async () => {
    await expect(
      env.DB.batch([
        prepare(`create table t (id integer)`),
        prepare(`insert into p values (3, 'c')`),
        prepare(`alter table p add column extra text`),
        prepare(`select * from missing_table`),
      ]),
    ).rejects.toThrow(/no such table: missing_table/);

    expect(await read(`select name from sqlite_master where name = 't'`)).toEqual([]);
    expect(await read(`select count(*) as n from p`)).toEqual([{ n: 2 }]);
    expect((await read(`select name from pragma_table_info('p')`)).map((row) => row.name)).toEqual(["id", "name"]);
  });

  it("foreign keys stay on: PRAGMA foreign_keys = OFF is ignored", async () => {
    await expect(
      env.DB.batch([prepare(`pragma foreign_keys = off`), prepare(`insert into c_no_action values (9, 999)`)]),
    ).rejects.toThrow(/FOREIGN KEY constraint failed/);
    expect(await read(`pragma foreign_keys`)).toEqual([{ foreign_keys: 1 }]);
  });

  it("a textbook rebuild of the parent deletes CASCADE children and nulls SET NULL ones, even with defer_foreign_keys", async () => {
    await env.DB.batch([
      prepare(`pragma defer_foreign_keys = on`),
      prepare(`create table p_new (id integer primary key, name text, extra text)`),
      prepare(`insert into p_new (id, name) select id, name from p`),
      prepare(`drop table p`),
      prepare(`alter table p_new rename to p`),
    ]);

    expect(await read(`select count(*) as n from p`)).toEqual([{ n: 2 }]);
    expect(await read(`select * from c_cascade`)).toEqual([]);
    expect(await read(`select * from c_set_null`)).toEqual([{ id: 1, pId: null }]);
  });

  it("dropping a parent that NO ACTION children still reference fails the batch", async () => {
    await prepare(`insert into c_no_action values (1, 2)`).run();

    await expect(
      env.DB.batch([
        prepare(`create table p_new (id integer primary key, name text)`),
        prepare(`insert into p_new select * from p`),
        prepare(`drop table p`),
        prepare(`alter table p_new rename to p`),
      ]),
    ).rejects.toThrow(/FOREIGN KEY constraint failed/);
    expect(await read(`select count(*) as n from c_cascade`)).toEqual([{ n: 2 }]);
  });

  it("renaming the parent rewrites its children's references, even with legacy_alter_table = ON", async () => {
    await env.DB.batch([prepare(`pragma legacy_alter_table = on`), prepare(`alter table p rename to p_old`)]);

    expect(await read(`select "table" from pragma_foreign_key_list('c_cascade')`)).toEqual([{ table: "p_old" }]);
  });

  it("prepare() runs every statement of a string, even after a select, so the runner accepts one per query", async () => {
    await prepare(`select 1 as one; create table multi_statement_fact (id integer)`).all();

    expect(await read(`select name from sqlite_master where name = 'multi_statement_fact'`)).toEqual([{ name: "multi_statement_fact" }]);
  });

  it("temporary tables are not allowed, so helpers keep rows in ordinary tables", async () => {
    await expect(env.DB.exec(`create temp table scratch (id integer)`)).rejects.toThrow(/not authorized/);
  });
});
