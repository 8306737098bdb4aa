import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it, type TestContext } from "vitest";
import { inFlightRunFile } from "../../scripts/lib/in-flight-run";
import { kyselyMigrate } from "../../scripts/commands/kysely-migrate";
import { USAGE } from "../../scripts/lib/parse-migrate-args";
import { REPO_ROOT, runInProcess, TSX_LOADER } from "./run-script";

// The CLI's workerd is its child: a catchable signal must end it too, and
// after an uncatchable one the next call reports the run from the ledger.
// The two tests run at once (a CLI process and a directory each, removed when
// its test ends): each mostly waits on its CLI starting wrangler and workerd.

const SCRIPT = "scripts/kysely-migrate.ts";
const BIN = path.join(REPO_ROOT, "node_modules", ".bin");

/**
 * Processes still alive in a process group, as `ps -o pid=,ppid=,comm= -g`
 * lists them, read from /proc: polled every 25 ms, a `ps` process per look
 * cost more CPU than the CLI being watched.
 */
function groupMembers(pgid: number): { pid: number; ppid: number; comm: string }[] {
  const members = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue; // exited meanwhile
    }
    // "pid (comm) state ppid pgrp …"; comm may hold spaces and parentheses.
    const close = stat.lastIndexOf(")");
    const [, ppid, pgrp] = stat.slice(close + 2).split(" ");
    if (Number(pgrp) === pgid) members.push({ pid: Number(entry), ppid: Number(ppid), comm: stat.slice(stat.indexOf("(") + 1, close) });
  }
  return members;
}

async function until<T>(probe: () => Promise<T | undefined> | T | undefined, what: string, ms = 40_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** A temp directory removed when the test ends. */
async function tempDir(prefix: string, { onTestFinished }: TestContext): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** `kysely:migrate latest` as a process group of its own, killed (with whatever it started) when the test ends. */
function startLatest(persistTo: string, { onTestFinished }: TestContext) {
  // The CLI's own Node process is the child (no tsx wrapper process in between).
  const child = spawn(process.execPath, ["--import", TSX_LOADER, path.join(REPO_ROOT, SCRIPT), "latest", "--persist-to", persistTo], {
    cwd: REPO_ROOT,
    env: { ...process.env, PATH: `${BIN}${path.delimiter}${process.env.PATH ?? ""}`, NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  onTestFinished(() => {
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {}
  });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  child.stdout.resume();
  const closed = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  return { pgid: child.pid!, closed, stderr: () => stderr };
}

// Generous waits: a CLI start (tsx, wrangler, workerd) takes tens of seconds on a loaded 2-core machine.
describe.concurrent("kysely:migrate and its workerd", { timeout: 115_000 }, () => {
  it("SIGTERM during a run ends the CLI and its workerd", async (context) => {
    const { expect } = context;
    const cli = startLatest(await tempDir("migrate-signal-", context), context);
    const workerd = await until(() => groupMembers(cli.pgid).find((member) => member.comm.includes("workerd")), "workerd to start");

    // To the CLI's own Node process, the parent of workerd.
    process.kill(workerd.ppid, "SIGTERM");
    const code = await cli.closed;

    await until(() => (groupMembers(cli.pgid).length === 0 ? true : undefined), "every process of the CLI to exit", 10_000);
    expect({ code, stderr: cli.stderr() }).toMatchObject(code === 0 ? { code: 0 } : { stderr: expect.stringMatching(/interrupted by SIGTERM/) });
  });

  it("after a SIGKILL mid-batch, the next list reports the run's outcome from the ledger", async (context) => {
    const { expect } = context;
    const dir = await tempDir("migrate-kill-", context);
    const target = { remote: false, env: undefined, persistTo: dir, config: path.join(REPO_ROOT, "wrangler.toml") };
    const cli = startLatest(dir, context);
    const run = await until(async () => {
      try {
        return JSON.parse(await readFile(inFlightRunFile(target), "utf8")) as { pid: number; planned: { migrationName: string }[] };
      } catch {
        return undefined;
      }
    }, "the run to be sent", 80_000);

    process.kill(run.pid, "SIGKILL"); // the CLI's own Node process; its workerd is orphaned
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    process.kill(-cli.pgid, "SIGKILL");
    // The next call, in this process: what it reads is the ledger and the run record the killed process left.
    const { code, stdout, stderr } = await runInProcess(kyselyMigrate, ["list", "--persist-to", dir], USAGE);

    expect(code).toBe(0);
    const noted = stderr.trim().split("\n");
    expect(noted[0]).toMatch(new RegExp(`^note: the run started by pid ${run.pid} at .* ended before it reported; the ledger now shows:$`));
    for (const { migrationName } of run.planned) {
      const applied = stdout.split("\n").some((line) => line.startsWith(migrationName) && line.includes("applied 20"));
      expect(noted).toContain(`  ${applied ? "applied " : "not applied"} ${migrationName}`);
    }
    // Reported once: the record is gone.
    await expect(readFile(inFlightRunFile(target))).rejects.toThrow(/ENOENT/);
  });
});
