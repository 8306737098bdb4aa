import { cp, mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrations } from "../../migrations/index";
import { readState } from "./local-d1-file";
import { kyselyMigrate } from "../../scripts/commands/kysely-migrate";
import { USAGE } from "../../scripts/lib/parse-migrate-args";
import { hasStackTrace, REPO_ROOT, runInProcess } from "./run-script";

// Which database `kysely:migrate` opens for `--config` and `--env`: the one
// wrangler itself would use with the same flags, or none at all. The command
// runs in this process, from another working directory (paths resolve as in
// a process started there); kysely-migrate.test.ts runs it as a process.

const NAMES = Object.keys(migrations).sort();

describe("kysely:migrate --config and --env", () => {
  let work = "";
  let cwd = "";
  let configDir = "";

  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), "migrate-target-"));
    cwd = path.join(work, "cwd");
    configDir = path.join(work, "project");
    await mkdir(cwd);
    await mkdir(configDir);
    await cp(path.join(REPO_ROOT, "wrangler.toml"), path.join(configDir, "wrangler.toml"));
    await writeFile(path.join(work, "no-d1.toml"), `name = "no-d1"\ncompatibility_date = "2026-11-01"\n`);
    await writeFile(
      path.join(work, "staging.toml"),
      `name = "staged"\ncompatibility_date = "2026-11-01"\n[[env.staging.d1_databases]]\nbinding = "DB"\ndatabase_name = "billing-staging"\ndatabase_id = "00000000-0000-0000-0000-000000000001"\n`,
    );
  });

  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  /** `pnpm kysely:migrate <args>` started in `cwd`. */
  const migrate = (...args: string[]) => runInProcess(kyselyMigrate, args, USAGE, { cwd });

  it("--config elsewhere keeps local state next to that config, where wrangler dev and d1 execute look", async () => {
    const { code, stderr } = await migrate("latest", "--config", "../project/wrangler.toml");

    expect(code, stderr).toBe(0);
    expect(readState(path.join(configDir, ".wrangler", "state")).ledger.map((row) => row.name)).toEqual(NAMES);
    expect(await readdir(cwd)).toEqual([]);
  });

  it.each([[[]], [["--remote"]]])("--env naming no environment of the config %j exits 2 before opening any database", async (flags) => {
    const { code, stdout, stderr } = await migrate("latest", "--env", "stagign", ...flags, "--config", "../project/wrangler.toml");

    expect({ code, stdout }).toEqual({ code: 2, stdout: "" });
    expect(stderr.split("\n")[0]).toBe("error: ../project/wrangler.toml has no [env.stagign]; check --env");
    expect(hasStackTrace(stderr)).toBe(false);
    expect(await readdir(cwd)).toEqual([]);
  });

  it("--env naming an environment of the config opens its database", async () => {
    const { code, stdout, stderr } = await migrate("list", "--env", "staging", "--config", "../staging.toml", "--persist-to", "staged");

    expect(code, stderr).toBe(0);
    expect(stdout.trimEnd().split("\n").slice(1).map((row) => row.split(/\s+/))).toEqual(NAMES.map((name) => [name, "pending"]));
  });

  it("a config without the DB binding exits 1 with one line saying so", async () => {
    const { code, stdout, stderr } = await migrate("list", "--config", "../no-d1.toml", "--persist-to", "state");

    expect({ code, stdout }).toEqual({ code: 1, stdout: "" });
    expect(stderr.trimEnd().split("\n")).toEqual(["error: ../no-d1.toml has no D1 binding named DB ([[d1_databases]] binding = \"DB\")"]);
  });
});
