import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { CliIo } from "../../scripts/lib/cli-io";
import { afterAll, beforeAll } from "vitest";
import { failureReport } from "../../scripts/lib/exit-with-error";
import { closeSharedLocalD1Proxies, shareLocalD1Proxies } from "../../scripts/lib/using-d1";

/** The repository root (this file lives in test/cli/). */
export const REPO_ROOT = path.resolve(fileURLToPath(new URL("../..", import.meta.url)));

const BIN = path.join(REPO_ROOT, "node_modules", ".bin");
/** tsx's loader by absolute URL: `--import tsx` would resolve from the child's cwd, which may be a temp dir. */
export const TSX_LOADER = pathToFileURL(path.join(REPO_ROOT, "node_modules", "tsx", "dist", "loader.mjs")).href;

export interface ScriptRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a TypeScript script of the repository the way `pnpm <script>` does:
 * through the project's tsx, on this process's Node (the project's Node 22),
 * with the project's binaries first on PATH.
 * Never throws on a non-zero exit; the test inspects it.
 *
 * @example
 * ```ts
 * const { code, stdout } = await runScript("scripts/kysely-migrate.ts", ["list", "--persist-to", dir])
 * ```
 */
export async function runScript(script: string, args: string[], options: { cwd?: string } = {}): Promise<ScriptRun> {
  // The script's workerd must be the only one on the state files it opens.
  await closeSharedLocalD1Proxies();
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${BIN}${path.delimiter}${process.env.PATH ?? ""}`, NO_COLOR: "1" };
  // DEBUG makes the CLI print stack traces on purpose; the tests check there are none.
  delete env.DEBUG;
  // No stdin: a CLI that waits for an answer gets EOF instead of hanging the test.
  // `node --import tsx` is what the tsx binary starts as its child: one Node process instead of two.
  const child = spawn(process.execPath, ["--import", TSX_LOADER, path.join(REPO_ROOT, script), ...args], {
    cwd: options.cwd ?? REPO_ROOT,
    env,
    stdio: ["ignore", "pipe", "pipe"],
    // Its own process group, so a hung run can be killed with its tsx child and workerd.
    detached: true,
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  // Below the CLI project's 120 s test timeout, so a hung run reports its output.
  const timer = setTimeout(() => process.kill(-child.pid!, "SIGKILL"), 100_000);
  return await new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr: signal ? `${stderr}\n[killed: ${signal}]` : stderr });
    });
  });
}

/** True when the output carries a JavaScript stack trace. */
export function hasStackTrace(output: string): boolean {
  return /^\s+at .+[(:]\d+/m.test(output);
}

/**
 * Runs a command's function in this process, as its script's entry point
 * would (same exit codes, same lines on stdout and stderr), for tests where
 * the process boundary is not what is tested: no tsx, no wrangler import per run.
 *
 * @example
 * ```ts
 * const { code, stdout } = await runInProcess(kyselyMigrate, ["list", "--persist-to", dir], USAGE)
 * const made = await runInProcess(kyselyMigrate, ["make", "add_invoices"], USAGE, { cwd: project })
 * ```
 */
export async function runInProcess(
  command: (argv: readonly string[], io: CliIo) => Promise<number>,
  argv: string[],
  usage?: string,
  options: { cwd?: string } = {},
): Promise<ScriptRun> {
  const out: string[] = [];
  const err: string[] = [];
  let code: number;
  // A relative --config or --persist-to, and `make`, resolve against the working
  // directory, as in a process started there. Safe here: a vitest fork runs one
  // file at a time, and that file's tests one after another.
  const previousCwd = process.cwd();
  if (options.cwd) process.chdir(options.cwd);
  try {
    code = await command(argv, { out: (line) => out.push(line), err: (line) => err.push(line) });
  } catch (error) {
    const failure = failureReport(error, usage);
    err.push(failure.lines.join("\n"));
    code = failure.code;
  } finally {
    process.chdir(previousCwd);
  }
  const text = (lines: string[]) => lines.map((line) => `${line}\n`).join("");
  return { code, stdout: text(out), stderr: text(err) };
}

/**
 * Makes every in-process command of this test file that opens the same local
 * D1 (same `--persist-to` and config) reuse one workerd, started on first use
 * and stopped after the file; {@link runScript} stops them before it spawns.
 * Use it where a file runs several commands against one state directory; a
 * file that makes a fresh directory per test gains nothing from it.
 */
export function shareLocalD1PerFile(): void {
  let stopSharing: (() => Promise<void>) | undefined;
  beforeAll(() => {
    stopSharing = shareLocalD1Proxies();
  });
  afterAll(async () => {
    await stopSharing?.();
  });
}
