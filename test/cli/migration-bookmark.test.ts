import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { saveRunBackup } from "../../scripts/lib/save-run-backup";
import { takeBookmark } from "../../scripts/lib/take-bookmark";
import { REPO_ROOT } from "./run-script";

// The Time Travel bookmark a remote run takes first, through the program named
// by WRANGLER_BIN: here a stand-in that accepts only the arguments wrangler's
// `d1 time-travel info` takes and prints what that command prints with --json.

const STAND_IN = path.join(REPO_ROOT, "test", "support", "wrangler-stand-in.mjs");
const BOOKMARK = "00000085-0000024c-00004c6d-8e61117bf38d7adb71b934ebbf891683";

describe("takeBookmark", () => {
  let dir = "";
  let config = "";
  let log = "";
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "migration-bookmark-"));
    config = path.join(dir, "wrangler.toml");
    log = path.join(dir, "calls.jsonl");
    await writeFile(
      config,
      [
        `name = "bookmark-test"`,
        `compatibility_date = "2026-11-01"`,
        `[[d1_databases]]`,
        `binding = "DB"`,
        `database_name = "billing"`,
        `database_id = "11111111-2222-3333-4444-555555555555"`,
        `[[env.staging.d1_databases]]`,
        `binding = "DB"`,
        `database_name = "billing-staging"`,
        `database_id = "66666666-2222-3333-4444-555555555555"`,
      ].join("\n"),
    );
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));
  afterEach(() => vi.unstubAllEnvs());

  const target = (env?: string) => ({ remote: true, env, persistTo: undefined, config });
  const calls = async () => (await readFile(log, "utf8")).trim().split("\n").map((line) => JSON.parse(line) as string[]);

  it("runs $WRANGLER_BIN d1 time-travel info <database> --json and returns the bookmark with its restore command", async () => {
    vi.stubEnv("WRANGLER_BIN", STAND_IN);
    vi.stubEnv("STAND_IN_DATABASE", "billing");
    vi.stubEnv("STAND_IN_LOG", log);

    expect(await takeBookmark(target())).toEqual({
      database: "billing",
      bookmark: BOOKMARK,
      restoreCommand: `wrangler d1 time-travel restore billing --bookmark=${BOOKMARK}`,
    });
    expect((await calls()).at(-1)).toEqual(["d1", "time-travel", "info", "billing", "--json", "--config", config]);
  });

  it("asks for the database of the --env, and says --env in the restore command", async () => {
    vi.stubEnv("STAND_IN_DATABASE", "billing-staging");
    vi.stubEnv("STAND_IN_LOG", log);

    const { restoreCommand } = await takeBookmark(target("staging"), STAND_IN);

    expect(restoreCommand).toBe(`wrangler d1 time-travel restore billing-staging --bookmark=${BOOKMARK} --env staging`);
    expect((await calls()).at(-1)).toEqual(["d1", "time-travel", "info", "billing-staging", "--json", "--config", config, "--env", "staging"]);
  });

  it.each([
    { why: "wrangler fails (no login)", env: { STAND_IN_FAIL: "1" }, error: /exited 1: ✘ \[ERROR\] In a non-interactive environment/ },
    { why: "the bookmark is not one", env: { STAND_IN_BOOKMARK: "../../etc/passwd" }, error: /printed no bookmark: "..\/..\/etc\/passwd"$/ },
    { why: "the arguments are not what wrangler takes", env: { STAND_IN_DATABASE: "other" }, error: /exited 64: stand-in: unexpected arguments/ },
  ])("fails with one line when $why", async ({ env, error }) => {
    vi.stubEnv("STAND_IN_DATABASE", "billing");
    for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);

    await expect(takeBookmark(target(), STAND_IN)).rejects.toThrow(error);
  });

  it("reads the JSON after a notice line, and refuses output that is no JSON", async () => {
    vi.stubEnv("STAND_IN_DATABASE", "billing");
    vi.stubEnv("STAND_IN_NOTICE", "A newer version of wrangler is available");
    expect((await takeBookmark(target(), STAND_IN)).bookmark).toBe(BOOKMARK);

    vi.stubEnv("STAND_IN_NOTICE", "");
    await expect(takeBookmark(target(), "/bin/echo")).rejects.toThrow(/^echo d1 time-travel info billing --json --config .* printed no JSON: d1 time-travel info billing --json/);
  });

  it("fails with one line when the program cannot run", async () => {
    await expect(takeBookmark(target(), path.join(dir, "no-such-wrangler"))).rejects.toThrow(/^cannot run .*no-such-wrangler: spawn .* ENOENT$/);
  });

  it("a forced run's backup carries the bookmark in its file name and first line", async () => {
    const bookmark = { database: "billing", bookmark: BOOKMARK, restoreCommand: `wrangler d1 time-travel restore billing --bookmark=${BOOKMARK}` };
    const backup = { sql: "insert into t values (1);\n", tables: [{ table: "t", rows: 1 }] };

    const file = await saveRunBackup(backup, { dir, label: "remote-down", bookmark, now: new Date("2026-12-01T21:30:00.000Z") });

    expect(path.basename(file)).toBe(`20261201T213000Z-remote-down-${BOOKMARK}.sql`);
    expect(await readFile(file, "utf8")).toBe(`-- Time Travel bookmark taken before this run: ${BOOKMARK} (${bookmark.restoreCommand})\ninsert into t values (1);\n`);
    expect(await readdir(dir)).toContain(path.basename(file));
  });
});
