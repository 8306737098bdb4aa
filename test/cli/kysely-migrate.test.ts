import { cp, mkdtemp, readdir, readFile, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { migrations } from "../../migrations/index";
import { kyselyMigrate } from "../../scripts/commands/kysely-migrate";
import { USAGE } from "../../scripts/lib/parse-migrate-args";
import { readState, tableNames, withLocalD1 } from "./local-d1-file";
import { hasStackTrace, REPO_ROOT, runInProcess, runScript, shareLocalD1PerFile } from "./run-script";

// `pnpm kysely:migrate …` against a temp `--persist-to` directory, its effects
// read back from the SQLite file wrangler keeps the local D1 in. The command
// runs in this process (same lines, same exit codes); "as a user runs it"
// checks one process per exit code (0, 1, 2) at the end. Each test builds
// the state it needs. The registry is the real one, so expectations derive
// from it: more migrations may follow the baseline.

const SCRIPT = "scripts/kysely-migrate.ts";
const BASELINE = "20261124120000_better_auth";
const NAMES = Object.keys(migrations).sort();
const LAST = NAMES.at(-1)!;
const AUTH_TABLES = ["account", "rateLimit", "session", "user", "verification"];
const REFUSAL = /refusing to revert the auth schema: "user" holds 1 row\(s\)/;

function migrate(persistTo: string, ...args: string[]) {
  return runInProcess(kyselyMigrate, [...args, "--persist-to", persistTo], USAGE);
}
// A test that runs several commands on its database starts one workerd for them.
shareLocalD1PerFile();

// Setup states are migrated once per file and copied into each test's own
// directory (a local D1 is a directory of SQLite files): every test still
// starts from its own database, without paying a migration run for it.
const templates = new Map<string, string>();
let templateRoot = "";
beforeAll(async () => {
  templateRoot = await mkdtemp(path.join(tmpdir(), "kysely-migrate-templates-"));
  for (const args of [["latest"], ["to", BASELINE]]) {
    const dir = path.join(templateRoot, args.join("-"));
    const run = await migrate(dir, ...args);
    if (run.code !== 0) throw new Error(`setup: kysely:migrate ${args.join(" ")} exited ${run.code}: ${run.stderr}`);
    templates.set(args.join(" "), dir);
  }
});
afterAll(() => rm(templateRoot, { recursive: true, force: true }));

/** Makes `persistTo` the database `kysely:migrate <args>` leaves on an empty one. */
async function migrated(persistTo: string, ...args: ["latest"] | ["to", typeof BASELINE]): Promise<void> {
  await cp(templates.get(args.join(" "))!, persistTo, { recursive: true });
}

function insertUser(persistTo: string): void {
  withLocalD1(
    persistTo,
    (db) =>
      db
        .prepare(`insert into "user" (id, name, email, emailVerified, createdAt, updatedAt) values (?, ?, ?, 0, ?, ?)`)
        .run("user-1", "Ada", "ada@example.com", "2026-11-24T08:00:00.000Z", "2026-11-24T08:00:00.000Z"),
    { write: true },
  );
}

function deleteUsers(persistTo: string): void {
  withLocalD1(persistTo, (db) => db.exec(`delete from "user"`), { write: true });
}

/** A fresh temp directory per test, removed afterwards. */
function useTempDir(prefix: string): () => string {
  let dir = "";
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), prefix));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  return () => dir;
}

describe("kysely:migrate latest, list, and latest again", () => {
  const dir = useTempDir("kysely-migrate-latest-");

  it("list on a new database shows every migration pending", async () => {
    const { code, stdout } = await migrate(dir(), "list");

    expect(code).toBe(0);
    const [header, ...rows] = stdout.trimEnd().split("\n");
    expect(header).toMatch(/^name\s+status$/);
    expect(rows.map((row) => row.split(/\s+/))).toEqual(NAMES.map((name) => [name, "pending"]));
  });

  it("latest applies every migration, one line each, and creates the auth tables", async () => {
    const { code, stdout, stderr } = await migrate(dir(), "latest");

    expect(code, stderr).toBe(0);
    expect(stdout.trimEnd().split("\n")).toEqual(NAMES.map((name) => `applied  ${name}`));
    expect(tableNames(dir())).toEqual(expect.arrayContaining([...AUTH_TABLES, "kysely_migration"]));
    expect(readState(dir()).ledger.map((row) => row.name)).toEqual(NAMES);
  });

  it("list shows each migration applied, with the ledger's timestamp", async () => {
    await migrated(dir(), "latest");

    const { code, stdout } = await migrate(dir(), "list");

    expect(code).toBe(0);
    const rows = stdout.trimEnd().split("\n").slice(1).map((row) => row.split(/\s+/));
    expect(rows).toEqual(readState(dir()).ledger.map(({ name, timestamp }) => [name, "applied", timestamp]));
    for (const [, , timestamp] of rows) expect(new Date(timestamp!).toISOString()).toBe(timestamp);
  });

  it("a second latest says there is nothing to do and changes nothing", async () => {
    await migrated(dir(), "latest");
    const before = readState(dir());

    const { code, stdout } = await migrate(dir(), "latest");

    expect(code).toBe(0);
    expect(stdout.trim()).toBe("nothing to do: already at the requested migration");
    expect(readState(dir())).toEqual(before);
  });
});

describe("kysely:migrate down while users exist", () => {
  const dir = useTempDir("kysely-migrate-refuse-");

  it("to <baseline> applies just the baseline", async () => {
    const { code, stdout } = await migrate(dir(), "to", BASELINE);

    expect(code).toBe(0);
    expect(stdout.trim()).toBe(`applied  ${BASELINE}`);
    expect(readState(dir()).ledger.map((row) => row.name)).toEqual([BASELINE]);
  });

  it("down refuses with exit 1, names the migration and the reason, no stack trace, nothing changed", async () => {
    await migrated(dir(), "to", BASELINE);
    insertUser(dir());
    const before = readState(dir());
    expect(before.users).toHaveLength(1);

    const { code, stdout, stderr } = await migrate(dir(), "down");

    expect(code).toBe(1);
    expect(stdout).toBe("");
    expect(stderr).toContain(`failed   ${BASELINE}`);
    expect(stderr).toMatch(new RegExp(`error: ${BASELINE}: ${REFUSAL.source}`));
    expect(stderr).toContain("nothing was applied");
    expect(hasStackTrace(stderr)).toBe(false);
    expect(readState(dir())).toEqual(before);
  });

  it("down --all refuses as well, after latest, and changes nothing", async () => {
    await migrated(dir(), "latest");
    insertUser(dir());
    const before = readState(dir());

    const { code, stderr } = await migrate(dir(), "down", "--all");

    expect(code).toBe(1);
    expect(stderr).toMatch(REFUSAL);
    expect(stderr).toContain("nothing was applied");
    expect(hasStackTrace(stderr)).toBe(false);
    expect(readState(dir())).toEqual(before);
  });

  it("once the users are gone, down --all reverts every migration and drops the auth tables", async () => {
    await migrated(dir(), "latest");
    insertUser(dir());
    deleteUsers(dir());

    const { code, stdout } = await migrate(dir(), "down", "--all");

    expect(code).toBe(0);
    expect(stdout.trimEnd().split("\n")).toEqual([...NAMES].reverse().map((name) => `reverted ${name}`));
    expect(tableNames(dir()).filter((name) => AUTH_TABLES.includes(name))).toEqual([]);
    expect(readState(dir()).ledger).toEqual([]);
  });
});

describe("kysely:migrate down and to", () => {
  const dir = useTempDir("kysely-migrate-down-");

  it("down reverts only the last migration", async () => {
    await migrated(dir(), "latest");

    const { code, stdout } = await migrate(dir(), "down");

    expect(code).toBe(0);
    expect(stdout.trim()).toBe(`reverted ${LAST}`);
    expect(readState(dir()).ledger.map((row) => row.name)).toEqual(NAMES.slice(0, -1));
  });

  it("down on the baseline of an empty database drops exactly the auth tables", async () => {
    await migrated(dir(), "to", BASELINE);
    expect(tableNames(dir())).toEqual(expect.arrayContaining(AUTH_TABLES));
    const tablesBefore = tableNames(dir());

    const { code, stdout } = await migrate(dir(), "down");

    expect(code).toBe(0);
    expect(stdout.trim()).toBe(`reverted ${BASELINE}`);
    expect(tableNames(dir())).toEqual(tablesBefore.filter((name) => !AUTH_TABLES.includes(name)));
    expect(readState(dir()).ledger).toEqual([]);
  });

  it("down with nothing applied has nothing to do", async () => {
    const { code, stdout } = await migrate(dir(), "down");

    expect(code).toBe(0);
    expect(stdout.trim()).toBe("nothing to do: already at the requested migration");
  });

  it("to <unknown name> exits 1 with one line naming it, and changes nothing", async () => {
    await migrated(dir(), "to", BASELINE);
    const before = readState(dir());

    const { code, stdout, stderr } = await migrate(dir(), "to", "20990101000000_no_such_migration");

    expect(code).toBe(1);
    expect(stdout).toBe("");
    expect(stderr).toContain(`error: migration "20990101000000_no_such_migration" doesn't exist`);
    expect(hasStackTrace(stderr)).toBe(false);
    expect(readState(dir())).toEqual(before);
  });
});

describe("kysely:migrate make", () => {
  let project = "";

  beforeAll(async () => {
    // A throwaway project: a copy of migrations/ (make edits index.ts) and
    // the real node_modules, so the new registry can be imported.
    project = await mkdtemp(path.join(tmpdir(), "kysely-migrate-make-"));
    await cp(path.join(REPO_ROOT, "migrations"), path.join(project, "migrations"), { recursive: true });
    await symlink(path.join(REPO_ROOT, "node_modules"), path.join(project, "node_modules"));
  });

  afterAll(async () => {
    await rm(project, { recursive: true, force: true });
  });

  it("creates <timestamp>_<name>.ts with up/down on Kysely<any> and registers it in index.ts", async () => {
    const realMigrations = await readdir(path.join(REPO_ROOT, "migrations"));
    const realRegistry = await readFile(path.join(REPO_ROOT, "migrations", "index.ts"), "utf8");
    const startedAt = new Date();

    const { code, stdout } = await runInProcess(kyselyMigrate, ["make", "add_invoices"], USAGE, { cwd: project });

    expect(code).toBe(0);
    const created = (await readdir(path.join(project, "migrations"))).filter((file) => !realMigrations.includes(file));
    expect(created).toHaveLength(1);
    const file = created[0]!;
    expect(file).toMatch(/^\d{14}_add_invoices\.ts$/);
    expect(stdout).toContain(path.join("migrations", file));
    const stamp = file.slice(0, 14);
    const stampTime = Date.UTC(+stamp.slice(0, 4), +stamp.slice(4, 6) - 1, +stamp.slice(6, 8), +stamp.slice(8, 10), +stamp.slice(10, 12), +stamp.slice(12, 14));
    expect(stampTime).toBeGreaterThanOrEqual(Math.floor(startedAt.getTime() / 1000) * 1000);
    expect(stampTime).toBeLessThanOrEqual(Date.now());

    const source = await readFile(path.join(project, "migrations", file), "utf8");
    expect(source).toContain("export async function up(db: Kysely<any>): Promise<void>");
    expect(source).toContain("export async function down(db: Kysely<any>): Promise<void>");

    const name = file.replace(/\.ts$/, "");
    const registry: { migrations: Record<string, { up: unknown; down: unknown }> } = await import(
      path.join(project, "migrations", "index.ts")
    );
    expect(Object.keys(registry.migrations).sort()).toEqual([...NAMES, name].sort());
    expect(typeof registry.migrations[name]!.up).toBe("function");
    expect(typeof registry.migrations[name]!.down).toBe("function");

    // The repository's own migrations were not touched.
    expect(await readdir(path.join(REPO_ROOT, "migrations"))).toEqual(realMigrations);
    expect(await readFile(path.join(REPO_ROOT, "migrations", "index.ts"), "utf8")).toBe(realRegistry);
  });
});

describe("kysely:migrate bad usage", () => {
  it.each([
    { args: [], message: "missing command" },
    { args: ["frobnicate"], message: "unknown command 'frobnicate'" },
    { args: ["latest", "--frobnicate"], message: "unknown flag --frobnicate" },
    { args: ["to"], message: "'to' needs a migration name" },
    { args: ["make", "Bad-Name"], message: "migration name 'Bad-Name' must be snake_case" },
    { args: ["latest", "--remote", "--persist-to", "x"], message: "--persist-to is for the local database" },
    { args: ["latest", "--local", "--remote"], message: "choose one of --local and --remote" },
  ])("$args exits 2 with '$message' and the usage text, writing nothing", async ({ args, message }) => {
    const migrationsBefore = await readdir(path.join(REPO_ROOT, "migrations"));

    const { code, stdout, stderr } = await runInProcess(kyselyMigrate, args, USAGE);

    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr.startsWith(`error: ${message}`)).toBe(true);
    expect(stderr).toContain(USAGE);
    expect(hasStackTrace(stderr)).toBe(false);
    expect(await readdir(path.join(REPO_ROOT, "migrations"))).toEqual(migrationsBefore);
  });
});

describe.concurrent("pnpm kysely:migrate as a process: exit codes and streams", () => {
  it("latest exits 0 with one stdout line per applied migration and nothing else", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "kysely-migrate-process-"));
    try {
      const { code, stdout, stderr } = await runScript(SCRIPT, ["latest", "--persist-to", dir]);

      expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
      expect(stdout.trimEnd().split("\n")).toEqual(NAMES.map((name) => `applied  ${name}`));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("a usage mistake exits 2 with the message and the usage on stderr, nothing on stdout", async () => {
    const { code, stdout, stderr } = await runScript(SCRIPT, ["frobnicate"]);

    expect({ code, stdout }).toEqual({ code: 2, stdout: "" });
    expect(stderr).toBe(`error: unknown command 'frobnicate'\n\n${USAGE}\n`);
  });

  it("a failure exits 1 with one line on stderr, nothing on stdout, no stack trace", async () => {
    const { code, stdout, stderr } = await runScript(SCRIPT, ["lint", "20991231000000_nope"]);

    expect({ code, stdout }).toEqual({ code: 1, stdout: "" });
    expect(stderr).toBe("error: no migration named '20991231000000_nope' in migrations/index.ts; 'pnpm kysely:migrate list' shows them\n");
  });
});

describe("kysely:migrate --remote", () => {
  it("with the committed placeholder database_id exits 1 with one line: run wrangler d1 create", async () => {
    const { code, stdout, stderr } = await runInProcess(kyselyMigrate, ["latest", "--remote"], USAGE);

    expect(code).toBe(1);
    expect(stdout).toBe("");
    expect(stderr.trimEnd().split("\n")).toEqual([
      "error: wrangler.toml has no real database_id for the DB binding; run 'wrangler d1 create <name>' and paste its id there",
    ]);
  });
});
