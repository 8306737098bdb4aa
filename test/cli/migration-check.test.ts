import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrations } from "../../migrations/index";
import { currentChecksums } from "../../scripts/lib/current-checksums";
import { runSafeguards } from "../../scripts/lib/run-safeguards";
import { usingD1 } from "../../scripts/lib/using-d1";
import { CHECKSUM_TABLE } from "../../src/db/migration/migration-checksums";
import { runMigrations } from "../../src/db/migration/run-migrations";
import { sqliteWasmAnalyser } from "../../src/db/migration/sqlite-wasm-analyser";
import { readState, withLocalD1 } from "./local-d1-file";
import { kyselyMigrate } from "../../scripts/commands/kysely-migrate";
import { USAGE } from "../../scripts/lib/parse-migrate-args";
import { hasStackTrace, runInProcess, shareLocalD1PerFile } from "./run-script";

// The two reproductions, through the CLI's command on a temp --persist-to: a
// column added by hand is drift that `check` reports; an applied migration
// whose recorded statements differ from today's makes `latest` refuse. The
// command runs in this process with one workerd for the file (same lines and
// exit codes; kysely-migrate.test.ts runs the script as a process).

const BASELINE = "20261124120000_better_auth";
const migrate = (...args: string[]) => runInProcess(kyselyMigrate, args, USAGE);
shareLocalD1PerFile();

describe("kysely:migrate check and edited migrations, from outside", () => {
  let dir = "";
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "kysely-migrate-check-"));
    // Migrated in-process (as `latest` does, checksums included): one process less to start.
    const { checksums } = await currentChecksums(migrations);
    const target = { remote: false, env: undefined, persistTo: dir, config: "wrangler.toml" };
    const report = await usingD1(target, (db) =>
      runMigrations(db, { verb: "latest" }, { migrations, analyser: sqliteWasmAnalyser(), beforeCommit: runSafeguards(db, { checksums, acceptEdited: [], log: () => {} }).beforeCommit }),
    );
    if (report.error) throw report.error;
  }, 90_000); // the first currentChecksums of a clean clone replays the migrations
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("check reports a column added by hand and exits 1", async () => {
    withLocalD1(dir, (db) => db.exec(`alter table "user" add column "nickname" text`), { write: true });

    const { code, stdout, stderr } = await migrate("check", "--persist-to", dir);

    expect(code, stderr).toBe(1);
    expect(stdout).toContain(`drift    + column "user"."nickname": #7 TEXT\n`);
    expect(stderr.split("\n")[0]).toBe(
      "error: the schema differs from what the applied migrations create: 1 difference(s) (+ only in the database, - only in the migrations, ~ migrations → database)",
    );
    expect(hasStackTrace(stdout + stderr)).toBe(false);
  });

  it("latest refuses, naming the migration, when an applied migration's statements changed since; nothing is applied", async () => {
    // What an edit of the baseline after it was applied looks like to the runner: the recorded statements differ.
    withLocalD1(dir, (db) => db.prepare(`update ${CHECKSUM_TABLE} set up_sql = replace(up_sql, '"email" text', '"mail" text'), up_sha256 = 'edited' where name = ?`).run(BASELINE), { write: true });
    const before = readState(dir);

    const { code, stdout, stderr } = await migrate("latest", "--persist-to", dir);

    expect(code, stdout).toBe(1);
    const lines = stderr.trimEnd().split("\n");
    expect(lines[0]).toMatch(new RegExp(`^error: ${BASELINE} was edited after it was applied: line 1 of its up statements changed at column \\d+: was …[^\\n]*"mail" text[^\\n]*, now …[^\\n]*"email" text`));
    expect(lines.at(-1)).toBe("nothing was applied: the run was refused before it was sent");
    expect(readState(dir)).toEqual(before);
  });
});
