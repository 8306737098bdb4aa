import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrations } from "../../migrations/index";
import { readState, withLocalD1 } from "./local-d1-file";
import { kyselyMigrate } from "../../scripts/commands/kysely-migrate";
import { USAGE } from "../../scripts/lib/parse-migrate-args";
import { closeSharedLocalD1Proxies } from "../../scripts/lib/using-d1";
import { REPO_ROOT, runInProcess, shareLocalD1PerFile } from "./run-script";

// `pnpm kysely:migrate sql` and the destructive-change guard as a user meets
// them: the CLI against a temp --persist-to, with the shipped registry (so
// expectations derive from it), its effects read from the local D1's file.

const BASELINE = "20261124120000_better_auth";
const NAMES = Object.keys(migrations).sort();
const PENDING_AFTER_BASELINE = NAMES.filter((name) => name > BASELINE);

let dir = "";
// In this process: the lines and exit codes are the script's (kysely-migrate.test.ts runs it as a process).
const migrate = (...args: string[]) => runInProcess(kyselyMigrate, [...args, "--persist-to", dir], USAGE);
shareLocalD1PerFile();

function rateLimitRows(): unknown[] {
  return withLocalD1(dir, (db) => db.prepare(`select * from "rateLimit" order by id`).all().map((row) => ({ ...row })));
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "migration-cli-"));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("kysely:migrate sql", () => {
  it("prints the statements of latest with parameters inlined, and applies nothing", async () => {
    expect((await migrate("to", BASELINE)).code).toBe(0);
    const before = readState(dir);

    const { code, stdout, stderr } = await migrate("sql", "latest");

    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    const lines = stdout.trimEnd().split("\n");
    expect(lines.every((line) => line.endsWith(";"))).toBe(true);
    const ledgerRows = lines.filter((line) => line.startsWith(`insert into "kysely_migration" `));
    expect(ledgerRows).toEqual(
      PENDING_AFTER_BASELINE.map((name) =>
        expect.stringMatching(new RegExp(`^insert into "kysely_migration" \\("name", "timestamp"\\) values \\('${name}', '\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z'\\);$`)),
      ),
    );
    expect(readState(dir)).toEqual(before);
  });

  it("on an up-to-date database prints nothing and says so", async () => {
    expect((await migrate("latest")).code).toBe(0);

    const { code, stdout, stderr } = await migrate("sql", "latest");

    expect({ code, stdout, stderr }).toEqual({ code: 0, stdout: "", stderr: "nothing to do: no statements\n" });
  });
});

describe("kysely:migrate down that would drop rows", () => {
  let backupDir = "";
  let seededRows: unknown[];

  beforeAll(async () => {
    backupDir = path.join(dir, "backups");
    // Only the baseline left, holding a rate-limit counter (and no users, so its own check passes).
    expect((await migrate("to", BASELINE)).code).toBe(0);
    withLocalD1(dir, (db) => db.exec(`insert into "rateLimit" (id, key, count, lastRequest) values ('r1', 'it''s/sign-up', 3, 1732437000123)`), {
      write: true,
    });
    seededRows = rateLimitRows();
  });

  it("sql down shows the drops on stdout and the guard's verdict on stderr", async () => {
    const { code, stdout, stderr } = await migrate("sql", "down");

    expect(code).toBe(0);
    expect(stdout).toContain(`drop table "rateLimit";\n`);
    expect(stderr.split("\n")[0]).toBe(`note: ${BASELINE}: statement #1 drops table "rateLimit", which holds 1 row(s)`);
  });

  it("down refuses with exit 1, naming the table, the row count and --force; nothing changes", async () => {
    const before = readState(dir);

    const { code, stdout, stderr } = await migrate("down");

    expect({ code, stdout }).toEqual({ code: 1, stdout: "" });
    expect(stderr.trimEnd().split("\n")).toEqual([
      `not run  ${BASELINE}`,
      `error: ${BASELINE}: statement #1 drops table "rateLimit", which holds 1 row(s)`,
      "  to proceed: run again with --force; it first writes these rows to a backup file (SQL inserts, restorable with 'wrangler d1 execute --file')",
      "nothing was applied: the run was refused before it was sent",
    ]);
    expect(readState(dir)).toEqual(before);
    expect(rateLimitRows()).toEqual(seededRows);
  });

  let backupFile = "";

  it("down --force writes the backup first, prints its path, then reverts", async () => {
    const { code, stdout } = await migrate("down", "--force", "--backup-dir", backupDir);

    expect(code).toBe(0);
    const files = await readdir(backupDir);
    expect(files).toEqual([expect.stringMatching(/^\d{8}T\d{6}Z-local-down\.sql$/)]);
    backupFile = path.join(backupDir, files[0]!);
    expect(stdout.trimEnd().split("\n")).toEqual([
      `backup   ${backupFile} (1 row(s) of "rateLimit"); restore with: wrangler d1 execute <database> --file ${backupFile}`,
      `reverted ${BASELINE}`,
    ]);
    expect(readState(dir).schema.map((object) => (object as { name: string }).name)).not.toContain("rateLimit");
    expect(await readFile(backupFile, "utf8")).toMatch(/^-- Rows backed up by the migration runner/);
  });

  it("the backup file, run by wrangler d1 execute --file against the recreated tables, restores the rows", async () => {
    expect((await migrate("latest")).code).toBe(0);
    expect(rateLimitRows()).toEqual([]);

    // wrangler's own workerd is then the only one on the files.
    await closeSharedLocalD1Proxies();
    await promisify(execFile)(
      path.join(REPO_ROOT, "node_modules", ".bin", "wrangler"),
      ["d1", "execute", "DB", "--local", "--persist-to", dir, "--file", backupFile],
      { cwd: REPO_ROOT, env: { ...process.env, PATH: `${path.join(REPO_ROOT, "node_modules", ".bin")}${path.delimiter}${process.env.PATH}` } },
    );

    expect(rateLimitRows()).toEqual(seededRows);
  });
});
