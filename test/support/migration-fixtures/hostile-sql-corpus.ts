/**
 * Raw-SQL spellings a migration might send, each with what the runner must
 * make of it on {@link CORPUS_SCHEMA} (`user` with a cascading child
 * `session`, and `note`; each table holds one row):
 * - `class`: `read` runs at once, `write` is buffered into the batch,
 *   `several` / `returning` are refused as a query;
 * - `refused`: the guard's findings (kind and table) without --force;
 * - `drops`: the tables SQLite says the statements drop.
 */
export interface CorpusEntry {
  sql: string | readonly string[];
  class: "read" | "write" | "several" | "returning";
  refused?: readonly string[];
  drops?: readonly string[];
}

export const CORPUS_SCHEMA = [
  `create table "user" ("id" text primary key, "email" text)`,
  `create table "session" ("id" text primary key, "userId" text references "user" ("id") on delete cascade)`,
  `create table "note" ("id" integer primary key, "body" text)`,
];

export const CORPUS_SEED = [
  `insert into "user" values ('u1', 'a@example.com')`,
  `insert into "session" values ('s1', 'u1')`,
  `insert into "note" values (1, 'kept')`,
];

const DROPS_USER = { class: "write", refused: ["drops-rows user", "changes-children user"], drops: ["user"] } as const;
const DROPS_NOTE = { class: "write", refused: ["drops-rows note"], drops: ["note"] } as const;

export const HOSTILE_SQL: CorpusEntry[] = [
  { sql: `drop table"user"`, ...DROPS_USER },
  { sql: `drop /* x */ table "user"`, ...DROPS_USER },
  { sql: `drop table if exists "user"`, ...DROPS_USER },
  { sql: `drop table main."user"`, ...DROPS_USER },
  { sql: `drop table "main"."USER"`, ...DROPS_USER },
  { sql: `drop table [user]`, ...DROPS_USER },
  { sql: "drop table `user`", ...DROPS_USER },
  { sql: `drop table 'user'`, ...DROPS_USER },
  { sql: `DrOp TaBlE UsEr`, ...DROPS_USER },
  { sql: `drop\ttable\n"user"`, ...DROPS_USER },
  { sql: `-- why not\ndrop table "user"`, ...DROPS_USER },
  { sql: `/* a */ drop /* b */ table /* c */ "user" /* d */`, ...DROPS_USER },
  { sql: `drop table "user" -- trailing`, ...DROPS_USER },
  { sql: `drop table "user";`, ...DROPS_USER },
  { sql: `  \n drop table user ;  `, ...DROPS_USER },
  { sql: `drop table main.[user]`, ...DROPS_USER },
  { sql: `drop table if exists main . "user"`, ...DROPS_USER },
  { sql: [`alter table "user" rename to "person"`, `drop table "person"`], ...DROPS_USER, refused: ["drops-rows person", "changes-children person"], drops: ["person"] },
  { sql: `drop table "note"`, ...DROPS_NOTE },
  { sql: `DROP TABLE IF EXISTS [NOTE]`, ...DROPS_NOTE },
  { sql: [`alter table note rename to n2`, `drop table "N2"`], ...DROPS_NOTE, refused: ["drops-rows n2"], drops: ["n2"] },
  { sql: `alter table "note" drop column "body"`, class: "write", refused: ["drops-column note"] },
  { sql: `alter table note drop body`, class: "write", refused: ["drops-column note"] },
  { sql: [`alter table note rename column body to text`, `alter table note drop column text`], class: "write", refused: ["drops-column note"] },
  { sql: `alter table note rename column body to text`, class: "write" },
  // SQLite compiles a check into ADD COLUMN … NOT NULL (it raises unless the table is empty): a write, not RETURNING.
  { sql: `alter table "note" add column "x" text not null`, class: "write" },
  { sql: `select 1; drop table "user"`, class: "several" },
  { sql: `create table t (a); drop table "user"`, class: "several" },
  { sql: `insert into note (body) values ('x');drop table"user"`, class: "several" },
  { sql: `create trigger tr after insert on note begin delete from "user"; end`, class: "write" },
  { sql: `with x as (select 1) insert into note (body) select 'a' from x`, class: "write" },
  { sql: `with x as (select id from note) delete from note where id in (select id from x)`, class: "write" },
  { sql: `with x as (select 1 as n) select n from x`, class: "read" },
  { sql: `pragma table_info("user")`, class: "read" },
  { sql: `pragma main.table_info('user')`, class: "read" },
  { sql: `select * from pragma_foreign_key_list('session')`, class: "read" },
  { sql: `pragma defer_foreign_keys = on`, class: "write" },
  { sql: `pragma defer_foreign_keys(1)`, class: "write" },
  { sql: `insert into note (body) values ('r') returning id`, class: "returning" },
  { sql: `delete from note returning *`, class: "returning" },
  { sql: `UPDATE note SET body = 'z' RETURNING body`, class: "returning" },
  { sql: `select count(*) from "user"`, class: "read" },
  { sql: `values (1)`, class: "read" },
  { sql: `SELECT/**/1`, class: "read" },
  { sql: `-- don't forget\ninsert into note (body) values ('it''s')`, class: "write" },
  { sql: `create index note_body on note (body)`, class: "write" },
  { sql: `drop index if exists nothing_here`, class: "write" },
  { sql: `alter table note add column extra text`, class: "write" },
  { sql: `create table "user_copy" as select * from "user"`, class: "write" },
  { sql: `create table "User" ("id" text)`, class: "write" },
];
