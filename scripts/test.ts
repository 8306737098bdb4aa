/**
 * `pnpm test [vitest args]`: the whole suite as two Vitest runs at once, or,
 * given arguments (a file, `--project`, `-t`…), one `vitest run` with them.
 *
 * Why two runs: one Vitest run shares its workers between projects and runs
 * the CLI files (mostly waiting on the processes and workerd they start) and
 * then the worker files, whose pool first spends many seconds bundling for
 * workerd with one core idle. As two runs, the worker pool starts beside the
 * first CLI files and neither waits for the other's tail. Each run prints its
 * own report; lines are passed through whole, as they come. The exit code is
 * the first non-zero one of the two.
 */
import { spawn } from "node:child_process";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const REPO_ROOT = path.resolve(fileURLToPath(new URL("..", import.meta.url)));
const VITEST = path.join(REPO_ROOT, "node_modules", "vitest", "vitest.mjs");

/** The runs of the whole suite: name, projects, and how many test files each runs at once. */
const STREAMS = [
  { name: "cli", args: ["--project", "cli", "--maxWorkers", "2"] },
  { name: "worker", args: ["--project", "worker-fresh-isolate", "--project", "worker", "--project", "unit", "--maxWorkers", "1"] },
];

function run(args: string[], stream?: string): Promise<number> {
  const child = spawn(process.execPath, [VITEST, "run", ...args], {
    cwd: REPO_ROOT,
    // Each run keeps its own Vitest cache (file durations for the sequencer).
    env: stream ? { ...process.env, TEST_STREAM: stream } : process.env,
    stdio: ["inherit", "pipe", "pipe"],
  });
  // Whole lines only, so the two runs' reports interleave by line, never mid-line.
  createInterface({ input: child.stdout }).on("line", (line) => process.stdout.write(`${line}\n`));
  createInterface({ input: child.stderr }).on("line", (line) => process.stderr.write(`${line}\n`));
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => child.kill(signal));
  return new Promise((resolve) => child.on("close", (code, signal) => resolve(code ?? (signal ? 1 : 0))));
}

const args = process.argv.slice(2);
if (args.length > 0) {
  process.exitCode = await run(args);
} else {
  const started = Date.now();
  const codes = await Promise.all(
    STREAMS.map(async ({ name, args }) => {
      const code = await run(args, name);
      console.log(`pnpm test: the ${name} run ${code === 0 ? "passed" : `failed (exit ${code})`} after ${Math.round((Date.now() - started) / 1000)} s`);
      return code;
    }),
  );
  process.exitCode = codes.find((code) => code !== 0) ?? 0;
}
