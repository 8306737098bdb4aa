import { spawn } from "node:child_process";
import { cp, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Migration } from "kysely/migration";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrations } from "../../migrations/index";
import { kyselyMigrate } from "../../scripts/commands/kysely-migrate";
import { currentChecksums } from "../../scripts/lib/current-checksums";
import { readSqlMigrations } from "../../scripts/lib/read-sql-migrations";
import { USAGE } from "../../scripts/lib/parse-migrate-args";
import { sqlFileMigration } from "../../src/db/migration/sql-file-migration";
import { withLocalD1 } from "./local-d1-file";
import { REPO_ROOT, runInProcess, shareLocalD1PerFile } from "./run-script";

// A team's Worker as it was built before this runner: Better Auth's tables and
// two app tables, created from SQL files by wrangler's own `d1 migrations
// apply --local` (ledger d1_migrations), with rows in every table. Wrangler is
// the one subprocess (once, in beforeAll); every kysely:migrate runs in-process.

const TEAM_TABLES = ["user", "session", "account", "verification", "rateLimit", "projects", "notes"];
const ADOPTED = ["0000_better_auth", "0001_projects", "0002_notes", "20261124120000_better_auth"];
const BASELINE = "20261124120000_better_auth";

let root = "";
let pristine = "";
let registry: Record<string, Migration> = {};
/** Where this file's registry caches its checksums (beside the databases). */
const checksumCache = () => path.join(root, "checksums.json");

function wranglerApply(config: string, persistTo: string): Promise<{ code: number; output: string }> {
  const child = spawn(path.join(REPO_ROOT, "node_modules", ".bin", "wrangler"), ["d1", "migrations", "apply", "DB", "--local", "--persist-to", persistTo, "-c", config], {
    cwd: path.dirname(config),
    // Not a TTY: wrangler applies without asking (as in CI).
    env: { ...process.env, CI: "1", NO_COLOR: "1", PATH: `${path.join(REPO_ROOT, "node_modules", ".bin")}${path.delimiter}${process.env.PATH ?? ""}` },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk) => (output += chunk));
  child.stderr.on("data", (chunk) => (output += chunk));
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, output }));
  });
}

/** Every row of the team's and Better Auth's tables, and wrangler's ledger. */
function teamRows(persistTo: string) {
  return withLocalD1(persistTo, (db) =>
    Object.fromEntries([...TEAM_TABLES, "d1_migrations"].map((table) => [table, db.prepare(`select * from "${table}" order by rowid`).all()])),
  );
}

function ledger(persistTo: string): string[] {
  return withLocalD1(persistTo, (db) => {
    const exists = db.prepare(`select 1 from sqlite_master where name = 'kysely_migration'`).get();
    return exists ? db.prepare(`select name from kysely_migration order by name`).all().map((row) => String(row.name)) : [];
  });
}

// Each test's commands (and the checksum replay) reuse one workerd per database.
shareLocalD1PerFile();

/** `pnpm kysely:migrate <args>` against a copy of the brownfield database, in this process. */
async function migrate(persistTo: string, args: string[], withRegistry = registry) {
  const argv = [...args, "--persist-to", persistTo, "--config", path.join(root, "wrangler.json")];
  return runInProcess(
    (argv, io) => kyselyMigrate(argv, io, { migrations: withRegistry, checksumCacheFile: checksumCache() }),
    argv,
    USAGE,
  );
}

async function copyOfPristine(): Promise<string> {
  const dir = await mkdtemp(path.join(root, "db-"));
  await cp(pristine, dir, { recursive: true });
  return dir;
}

function fromSources(sources: Awaited<ReturnType<typeof readSqlMigrations>>): Record<string, Migration> {
  return Object.fromEntries([...sources].map(([name, source]) => [name, sqlFileMigration(name, source)]));
}

describe("a brownfield database migrated by wrangler adopts, takes billing and round-trips", () => {
  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), "brownfield-"));
    // The team's SQL files, where wrangler.toml's migrations_dir says (as in this project).
    await cp(path.join(REPO_ROOT, "test", "support", "brownfield"), path.join(root, "migrations", "d1"), { recursive: true });
    await writeFile(
      path.join(root, "wrangler.json"),
      JSON.stringify({
        name: "team-worker",
        compatibility_date: "2026-11-01",
        d1_databases: [{ binding: "DB", database_name: "team", database_id: "22222222-2222-2222-2222-222222222222", migrations_dir: "migrations/d1" }],
      }),
    );
    pristine = path.join(root, "pristine");
    registry = { ...migrations, ...fromSources(await readSqlMigrations(root, "migrations/d1")) };
    const [applied] = await Promise.all([
      wranglerApply(path.join(root, "wrangler.json"), pristine),
      // The registry's checksum replay, which the first kysely:migrate run would
      // do, while wrangler works (mostly waiting on the workerd it starts per file).
      currentChecksums(registry, { cacheFile: checksumCache() }),
    ]);
    if (applied.code !== 0) throw new Error(`wrangler d1 migrations apply failed:\n${applied.output}`);
    withLocalD1(
      pristine,
      (db) =>
        db.exec(`
          insert into "user" values ('u1', 'Ada', 'ada@example.com', 1, null, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z');
          insert into "session" values ('s1', '2027-01-01T00:00:00.000Z', 'tok', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z', '127.0.0.1', 'ua', 'u1');
          insert into "account" values ('a1', 'u1', 'credential', 'u1', null, null, null, null, null, null, 'scrypt:hash', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z');
          insert into "verification" values ('v1', 'ada@example.com', 'code', '2026-02-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z');
          insert into "rateLimit" values ('r1', '127.0.0.1/sign-in', 3, 1767225600000);
          insert into projects (id, owner_id, name) values ('p1', 'u1', 'Roadmap');
          insert into notes (project_id, body) values ('p1', '  first  '), ('p1', 'second');
        `),
      { write: true },
    );
  }, 115_000); // wrangler starts a local D1 per migration it applies: ~25 s idle
  afterAll(() => rm(root, { recursive: true, force: true }));

  it("adopt, latest, down to the adopted point, latest: every row intact, list truthful, a second adopt a no-op", async () => {
    const db = await copyOfPristine();
    const rows = teamRows(db);
    expect(rows.notes).toHaveLength(2);
    const later = Object.keys(migrations).filter((name) => name > BASELINE).sort();
    const listed = async () => (await migrate(db, ["list"])).stdout.trim().split("\n").slice(1).map((line) => line.replace(/applied \S+/, "applied").replace(/\s+/g, " "));

    const preview = await migrate(db, ["sql", "adopt"]);
    expect(preview.code, preview.stderr).toBe(0);
    expect(preview.stdout).toContain(`insert into "kysely_migration" ("name", "timestamp") values ('0000_better_auth', '20`);
    expect(ledger(db)).toEqual([]);

    const adopted = await migrate(db, ["adopt"]);
    expect(adopted.code, adopted.stderr).toBe(0);
    expect(adopted.stdout.split("\n").slice(0, 5)).toEqual([
      ...ADOPTED.map((name) => `adopted  ${name}`),
      "recorded 4 migration(s) as applied, without running them; d1_migrations left as it was",
    ]);
    expect(teamRows(db)).toEqual(rows);
    expect(await listed()).toEqual([...ADOPTED.map((name) => `${name} applied`), ...later.map((name) => `${name} pending`)]);
    const timestamps = withLocalD1(db, (sqlite) => sqlite.prepare(`select timestamp from kysely_migration order by name`).all().map((row) => String(row.timestamp)));
    expect([...timestamps].sort()).toEqual(timestamps);
    expect(new Set(timestamps).size).toBe(4);

    const latest = await migrate(db, ["latest"]);
    expect(latest.code, latest.stderr).toBe(0);
    expect(teamRows(db)).toEqual(rows);
    expect(await listed()).toEqual([...ADOPTED, ...later].map((name) => `${name} applied`));

    const down = await migrate(db, ["to", BASELINE]);
    expect(down.code, down.stderr).toBe(0);
    expect(teamRows(db)).toEqual(rows);
    expect(await listed()).toEqual([...ADOPTED.map((name) => `${name} applied`), ...later.map((name) => `${name} pending`)]);

    expect((await migrate(db, ["latest"])).code).toBe(0);
    expect(teamRows(db)).toEqual(rows);
    const ledgerBefore = ledger(db);

    const again = await migrate(db, ["adopt"]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toBe("nothing to do: the 4 migration(s) from d1_migrations are in the runner's ledger already\n");
    expect(ledger(db)).toEqual(ledgerBefore);
    // The first adopt replays this registry on a throwaway D1 for its checksums and schemas (cached for the file's later tests).
  }, 240_000);

  it("latest before adopt is refused, pointing to adopt; nothing is applied", async () => {
    const db = await copyOfPristine();
    const before = teamRows(db);

    const { code, stderr } = await migrate(db, ["latest"]);

    expect(code).toBe(1);
    expect(stderr.split("\n").filter((line) => !line.startsWith("not run"))).toEqual([
      "error: d1_migrations lists 3 migration(s) applied by another tool and the runner's ledger lists none: running them again would fail or apply them twice",
      "  to proceed: 'pnpm kysely:migrate adopt' records them as applied first (docs/migrations.md, \"Coming from wrangler or drizzle-kit\")",
      "nothing was applied: the run was refused before it was sent",
      "",
    ]);
    expect(teamRows(db)).toEqual(before);
    expect(ledger(db)).toEqual([]);
  });

  it("a ledger naming a migration the registry lacks is refused, naming it; nothing is written", async () => {
    const db = await copyOfPristine();
    withLocalD1(db, (sqlite) => sqlite.exec(`insert into d1_migrations (name) values ('0003_extra.sql')`), { write: true });
    const before = teamRows(db);

    const { code, stdout, stderr } = await migrate(db, ["adopt"]);

    expect(code).toBe(1);
    expect(stdout).toBe("");
    expect(stderr.split("\n")[0]).toBe("error: d1_migrations lists 0003_extra.sql as applied, but no registered SQL migration has that file name");
    expect(teamRows(db)).toEqual(before);
    expect(withLocalD1(db, (sqlite) => sqlite.prepare(`select name from sqlite_master where name like 'kysely%'`).all())).toEqual([]);
  });

  it("a renamed SQL file is refused, naming the name the ledger knows", async () => {
    const db = await copyOfPristine();
    const { "0001_projects": projects, ...rest } = registry;
    const renamed = sqlFileMigration("0001_team_projects", { ...(projects as ReturnType<typeof sqlFileMigration>).source, ledgerName: "0001_team_projects.sql" });

    const { code, stderr } = await migrate(db, ["adopt"], { ...rest, "0001_team_projects": renamed });

    expect(code).toBe(1);
    expect(stderr.split("\n")[0]).toBe("error: d1_migrations lists 0001_projects.sql as applied, but no registered SQL migration has that file name");
    expect(ledger(db)).toEqual([]);
  });

  it("a schema that differs from what the adopted migrations create is refused with the difference; nothing is written", async () => {
    const db = await copyOfPristine();
    withLocalD1(db, (sqlite) => sqlite.exec(`alter table projects add column archived integer`), { write: true });

    const { code, stderr } = await migrate(db, ["adopt"]);

    expect(code).toBe(1);
    expect(stderr).toContain(`drift    + column "projects"."archived": #4 INTEGER\n`);
    expect(stderr).toContain("error: the schema differs from what 4 adopted migration(s) up to 20261124120000_better_auth create: 1 difference(s)");
    expect(ledger(db)).toEqual([]);
  });
});
