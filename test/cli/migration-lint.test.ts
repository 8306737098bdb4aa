import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { sql, type Kysely } from "kysely";
import type { Migration } from "kysely/migration";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrations } from "../../migrations/index";
import { betterAuthColumns } from "../../scripts/lib/better-auth-columns";
import { formatLintResult } from "../../scripts/lib/format-lint-result";
import { lintDatabase } from "../../scripts/lib/lint-command";
import { usingD1 } from "../../scripts/lib/using-d1";
import { runInProcess } from "./run-script";
import { kyselyMigrate } from "../../scripts/commands/kysely-migrate";
import { USAGE } from "../../scripts/lib/parse-migrate-args";
import { lintRun, readLiveRows, type LintFinding } from "../../src/db/migration/lint-run";
import { LINT_RULES, type LintCode } from "../../src/db/migration/lint-rules";
import { runMigrations } from "../../src/db/migration/run-migrations";
import { sqliteWasmAnalyser } from "../../src/db/migration/sqlite-wasm-analyser";

// The lint rules against a real local D1 (through getPlatformProxy, in this
// process): every shipped migration applied, plus tables with rows for the
// data-dependent rules. Each case is a pending migration the runner previews.

const CASE = "20991231000000_lint_case";
const RAW = (...statements: string[]): Migration["up"] => async (db: Kysely<any>) => {
  for (const statement of statements) await sql.raw(statement).execute(db);
};
const REBUILD_WITH_REQUIRED_COLUMN = RAW(
  `create table "lint_rows_new" ("id" integer primary key, "note" text, "spare" text, "dup" text, "extra" text not null)`,
  `insert into "lint_rows_new" select *, 'x' from "lint_rows"`,
  `drop table "lint_rows"`,
  `alter table "lint_rows_new" rename to "lint_rows"`,
);

interface LintCase {
  name: string;
  up: Migration["up"];
  handlesChildrenOf?: string[];
  /** Every code the case must produce, and no other. */
  codes: LintCode[];
}

const CASES: LintCase[] = [
  { name: "drop of a table with rows", up: RAW(`drop table "lint_rows"`), codes: ["DS101"] },
  { name: "drop of an empty table", up: RAW(`drop table "lint_empty"`), codes: ["DS102"] },
  { name: "drop spelled with comments and no spaces", up: RAW(`drop/* x */table"LINT_ROWS"`), codes: ["DS101"] },
  { name: "drop of a column with values", up: RAW(`alter table "lint_rows" drop column "note"`), codes: ["DS103"] },
  { name: "drop of a column with no values", up: RAW(`alter table [lint_rows] drop "spare"`), codes: ["DS104"] },
  { name: "NOT NULL column with no default on a table with rows", up: RAW(`alter table "lint_rows" add column "x" text not null`), codes: ["MF101"] },
  { name: "the same with an explicit default (NULL)", up: RAW(`alter table "lint_rows" add column "x" text not null default (NULL)`), codes: ["MF101"] },
  { name: "NOT NULL column with no default on an empty table", up: RAW(`alter table "lint_empty" add "x" text not null`), codes: ["MF104"] },
  { name: "a rebuild that makes a column required on a table with rows", up: REBUILD_WITH_REQUIRED_COLUMN, codes: ["MF102", "DS102"] },
  { name: "unique index over duplicates", up: RAW(`create unique index "lint_rows_dup" on "lint_rows" ("dup")`), codes: ["MF103"] },
  { name: "unique index over distinct values", up: RAW(`create unique index "lint_rows_note" on "lint_rows" ("note")`), codes: [] },
  { name: "table rename", up: RAW(`alter table "lint_rows" rename to "lint_renamed"`), codes: ["BC101"] },
  { name: "column rename", up: RAW("alter table `lint_rows` rename column \"note\" to \"remark\""), codes: ["BC102"] },
  { name: "drop of a parent with cascading children", up: RAW(`drop table "lint_parent"`), codes: ["CD101", "DS102"] },
  {
    name: "the same drop, declared handled",
    up: RAW(`drop table "lint_parent"`),
    handlesChildrenOf: ["lint_parent"],
    codes: ["CD102", "DS102"],
  },
  { name: "a statement over 100 KB", up: RAW(`insert into "lint_empty" ("a") values ('${"x".repeat(100_001)}')`), codes: ["D1101"] },
  {
    name: "a statement binding 101 parameters",
    up: async (db) => void (await db.insertInto("lint_empty").values(Array.from({ length: 101 }, (_, a) => ({ a }))).execute()),
    codes: ["D1102"],
  },
  { name: "a run over 1,000 statements", up: RAW(...Array.from({ length: 1_000 }, (_, a) => `insert into "lint_empty" ("a") values (${a})`)), codes: ["D1103"] },
  { name: "a nullable column on user", up: RAW(`alter table "user" add column "nickname" text`), codes: ["BA101"] },
  { name: "a required column with a default on user", up: RAW(`alter table "user" add column "nickname" text not null default ''`), codes: ["BA101"] },
  { name: "a required column with no default on user", up: RAW(`alter table "user" add column "nickname" text not null`), codes: ["MF101", "BA102", "BA101"] },
  { name: "the same, spelled main.\"USER\"", up: RAW(`ALTER TABLE main."USER" ADD "nickname" TEXT NOT NULL`), codes: ["MF101", "BA102", "BA101"] },
  {
    name: "a rebuild of session with a required column",
    up: RAW(
      `create table "session_new" ("id" text primary key, "expiresAt" date not null, "token" text not null unique, "createdAt" date not null, "updatedAt" date not null,
        "ipAddress" text, "userAgent" text, "userId" text not null references "user" ("id") on delete cascade, "tenant" text not null)`,
      `insert into "session_new" select *, 't' from "session"`,
      `drop table "session"`,
      `alter table "session_new" rename to "session"`,
    ),
    codes: ["BA102", "BA101", "DS102"],
  },
  { name: "a statement SQLite refuses", up: RAW(`alter table "no_such_table" add column "x" text`), codes: ["SQ101"] },
  // Prepares, but SQLite refuses to run it on the schema: a CHECK still names the column.
  { name: "a drop of a column a CHECK names", up: RAW(`alter table "payment_attempts" drop column "failureMessage"`), codes: ["SQ101"] },
  { name: "an index and an insert", up: RAW(`create index "lint_rows_note_idx" on "lint_rows" ("note")`, `insert into "lint_empty" ("a") values (1)`), codes: [] },
];

describe("kysely:migrate lint --json", () => {
  it("prints one JSON document and exits 0 for the shipped migrations", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "kysely-migrate-lint-cli-"));
    try {
      // In this process; kysely-migrate.test.ts runs the script as a process (its exit 1 is lint's unknown name).
      const { code, stdout, stderr } = await runInProcess(kyselyMigrate, ["lint", "--json", "--persist-to", dir], USAGE);
      expect(code, stderr).toBe(0);
      const result = JSON.parse(stdout);
      expect(result).toMatchObject({ ok: true, errors: 0, findings: [], migrations: Object.keys(migrations).sort() });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("kysely:migrate lint", () => {
  let dir = "";
  let database: D1Database;
  let release = () => {};
  let closed: Promise<void> = Promise.resolve();

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "kysely-migrate-lint-test-"));
    await new Promise<void>((ready, fail) => {
      closed = usingD1({ remote: false, env: undefined, persistTo: dir, config: "wrangler.toml" }, async (db) => {
        database = db;
        ready();
        await new Promise<void>((resolve) => (release = resolve));
      }).catch(fail);
    });
    const report = await runMigrations(database, { verb: "latest" }, { migrations, analyser: sqliteWasmAnalyser() });
    if (report.error) throw report.error;
    const now = new Date().toISOString();
    await database.batch([
      database.prepare(`create table "lint_rows" ("id" integer primary key, "note" text, "spare" text, "dup" text)`),
      database.prepare(`insert into "lint_rows" ("note", "dup") values ('a', 'same'), ('b', 'same')`),
      database.prepare(`create table "lint_empty" ("a" integer)`),
      database.prepare(`create table "lint_parent" ("id" integer primary key)`),
      database.prepare(`create table "lint_child" ("parentId" integer references "lint_parent" ("id") on delete cascade)`),
      database.prepare(`insert into "user" ("id", "name", "email", "emailVerified", "createdAt", "updatedAt") values ('u1', 'Ada', 'ada@example.com', 0, ?, ?)`).bind(now, now),
    ]);
  }, 120_000);
  afterAll(async () => {
    release();
    await closed;
    await rm(dir, { recursive: true, force: true });
  });

  async function lint({ up, handlesChildrenOf }: Pick<LintCase, "up" | "handlesChildrenOf">): Promise<LintFinding[]> {
    const registry = { ...migrations, [CASE]: { up, ...(handlesChildrenOf && { handlesChildrenOf }) } };
    const report = await runMigrations(database, { verb: "latest" }, { migrations: registry, analyser: sqliteWasmAnalyser(), mode: "preview" });
    if (report.error) throw report.error;
    return lintRun({ statements: report.statements, effects: report.effects, migrations: registry, betterAuthColumns: betterAuthColumns(), live: readLiveRows(database) });
  }

  it("has a case for every rule of LINT_RULES", () => {
    const covered = new Set(CASES.flatMap((lintCase) => lintCase.codes));
    expect(Object.keys(LINT_RULES).filter((code) => !covered.has(code as LintCode))).toEqual([]);
  });

  it.each(CASES)("$name: $codes", async (testCase) => {
    const findings = await lint(testCase);
    expect(findings.map((finding) => finding.code).sort()).toEqual([...testCase.codes].sort());
    for (const finding of findings) {
      expect(finding.severity).toBe(LINT_RULES[finding.code].severity);
      expect(finding.migration).toBe(CASE);
    }
  });

  it("flags a NOT NULL column without default added to user with BA102, and exits 1 naming the migration and statement", async () => {
    const registry = { ...migrations, [CASE]: { up: RAW(`create index "user_name_idx" on "user" ("name")`, `alter table "user" add column "nickname" text not null`) } };
    const result = await lintDatabase(database, "local D1", registry, { verb: "latest" }, undefined, betterAuthColumns());

    const { out, exitCode } = formatLintResult(result, { json: false });
    expect(exitCode).toBe(1);
    expect(out).toContain(
      `error    BA102  ${CASE} #2: "user"."nickname" is NOT NULL with no default, and Better Auth's inserts do not set it: sign-ups would fail; make it nullable or give it a default`,
    );
    expect(out).toContain(`         alter table "user" add column "nickname" text not null`);
    expect(out.at(-1)).toBe("linted 1 migration(s) on local D1: 2 error(s), 1 warning(s)");
    const json = JSON.parse(formatLintResult(result, { json: true }).out.join("\n"));
    expect(json).toMatchObject({ ok: false, errors: 2, warnings: 1, migrations: [CASE] });
    expect(json.findings).toContainEqual({ code: "BA102", severity: "error", message: expect.any(String), migration: CASE, statement: 2, sql: `alter table "user" add column "nickname" text not null` });
  });

  it("reports a migration whose up throws as a read failure (exit 1), nothing applied", async () => {
    const registry = { ...migrations, [CASE]: { up: async () => { throw new Error("boom in up"); } } };
    const result = await lintDatabase(database, "local D1", registry, { verb: "latest" }, undefined, betterAuthColumns());

    expect(formatLintResult(result, { json: false })).toEqual({
      out: [],
      err: [`error: cannot lint (nothing was applied): ${CASE}: boom in up`],
      exitCode: 1,
    });
    expect(JSON.parse(formatLintResult(result, { json: true }).out.join("\n"))).toMatchObject({ ok: false, error: `${CASE}: boom in up` });
    const { results } = await database.prepare(`select name from kysely_migration where name = ?`).bind(CASE).all();
    expect(results).toEqual([]);
  });

  it("lints only the named pending migration", async () => {
    const registry = { ...migrations, [CASE]: { up: RAW(`drop table "lint_empty"`) }, "20991231000001_lint_next": { up: RAW(`drop table "lint_rows"`) } };
    const result = await lintDatabase(database, "local D1", registry, { verb: "to", target: CASE }, CASE, betterAuthColumns());
    expect(result.migrations).toEqual([CASE]);
    expect(result.findings.map((finding) => finding.code)).toEqual(["DS102"]);
  });
});
