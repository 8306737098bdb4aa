import { spawn, type ChildProcess } from "node:child_process";
import { cp, mkdtemp, rm, symlink } from "node:fs/promises";
import { createServer } from "node:net";
import { constants, tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it, type TestContext } from "vitest";
import { migrations } from "../../migrations/index";
import { UsageError } from "../../scripts/lib/cli-flags";
import { devTarget } from "../../scripts/lib/dev-target";
import { readState } from "./local-d1-file";
import { REPO_ROOT } from "./run-script";

// `pnpm dev` as a user (or a process manager) runs and stops it: migrate,
// serve with wrangler dev, then a signal. The whole process tree must go.

const NAMES = Object.keys(migrations).sort();
const BIN = path.join(REPO_ROOT, "node_modules", ".bin");

async function freePort(): Promise<number> {
  const server = createServer().listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** True while any process of the group is alive. */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitFor(condition: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return condition();
}

// The two runs are independent (a throwaway project each) and mostly wait on
// wrangler and workerd starting, so they run at once.
describe.concurrent("pnpm dev", () => {
  const projects: string[] = [];

  /** A throwaway project (dev.ts writes .dev.vars and local state into its cwd), one per test. */
  async function makeProject(): Promise<string> {
    const project = await mkdtemp(path.join(tmpdir(), "pnpm-dev-"));
    projects.push(project);
    for (const entry of ["src", "scripts", "public", "billing", "wrangler.toml", ".dev.vars.example", "package.json", "tsconfig.json"]) {
      await cp(path.join(REPO_ROOT, entry), path.join(project, entry), { recursive: true });
    }
    await symlink(path.join(REPO_ROOT, "node_modules"), path.join(project, "node_modules"));
    return project;
  }

  afterAll(async () => {
    for (const project of projects) await rm(project, { recursive: true, force: true });
  });

  /** Starts scripts/dev.ts as the Node process itself (no shell wrappers), in its own process group; resolves once wrangler serves. */
  async function startDev(project: string, { expect, onTestFinished }: TestContext): Promise<{ dev: ChildProcess; exited: Promise<number>; output: () => string }> {
    const [port, inspectorPort] = [await freePort(), await freePort()];
    const dev = spawn(
      process.execPath,
      ["--import", "tsx", path.join(REPO_ROOT, "scripts", "dev.ts"), "--port", String(port), "--inspector-port", String(inspectorPort), "--persist-to", "state"],
      { cwd: project, detached: true, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, PATH: `${BIN}${path.delimiter}${process.env.PATH}`, NO_COLOR: "1" } },
    );
    // A failed test must not leave wrangler or workerd behind.
    onTestFinished(() => {
      if (dev.pid && groupAlive(dev.pid)) process.kill(-dev.pid, "SIGKILL");
    });
    let output = "";
    for (const stream of [dev.stdout!, dev.stderr!]) stream.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
    // The exit status as a shell reports it: the code, or 128 + the signal's number.
    const exited = new Promise<number>((resolve) => dev.on("exit", (code, signal) => resolve(code ?? 128 + constants.signals[signal!])));
    expect(await waitFor(() => output.includes("Ready on"), 100_000), output).toBe(true);
    return { dev, exited, output: () => output };
  }

  it("serves the database it migrated, and SIGTERM to the dev process stops wrangler and workerd with it", async (context) => {
    const { expect } = context;
    const project = await makeProject();
    const { dev, exited, output } = await startDev(project, context);

    process.kill(dev.pid!, "SIGTERM");

    expect(await exited).toBe(143);
    expect(await waitFor(() => !groupAlive(dev.pid!), 10_000), "processes left in the group").toBe(true);
    // The database wrangler dev served (--persist-to state) is the one that was migrated.
    expect(readState(path.join(project, "state")).ledger.map((row) => row.name), output()).toEqual(NAMES);
  }, 150_000);

  it("Ctrl-C (SIGINT to the whole process group) stops everything and exits 130", async (context) => {
    const { expect } = context;
    const { dev, exited } = await startDev(await makeProject(), context);

    process.kill(-dev.pid!, "SIGINT");

    expect(await exited).toBe(130);
    expect(await waitFor(() => !groupAlive(dev.pid!), 10_000), "processes left in the group").toBe(true);
  }, 150_000);
});

describe("devTarget (which local database pnpm dev migrates)", () => {
  it.each([
    [[], { remote: false, env: undefined, persistTo: undefined, config: "wrangler.toml" }],
    [["--port", "8788", "--persist-to", "/tmp/dev"], { remote: false, env: undefined, persistTo: "/tmp/dev", config: "wrangler.toml" }],
    [["-c", "other/wrangler.toml", "-e", "staging"], { remote: false, env: "staging", persistTo: undefined, config: "other/wrangler.toml" }],
    [["--config=w.toml", "--env=dev", "--persist-to=s"], { remote: false, env: "dev", persistTo: "s", config: "w.toml" }],
  ])("%j", (args, expected) => {
    expect(devTarget(args)).toEqual(expected);
  });

  it.each([["--remote"], ["-r"], ["--remote=true"]])("refuses %s: it would migrate the local D1 but serve the remote one", (flag) => {
    expect(() => devTarget(["--port", "8788", flag])).toThrow(UsageError);
  });
});
