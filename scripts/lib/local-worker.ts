import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { stripVTControlCharacters } from "node:util";
import { startGoCardlessStandIn } from "./gocardless-stand-in";

/** A `wrangler dev` serving this project's Worker on loopback, from throwaway config, secrets and state. */
export interface LocalWorker {
  url: string;
  /** The config wrangler serves (its `.dev.vars` sits next to it): pass it to `usingD1`. */
  config: string;
  persistTo: string;
  /** The loopback GoCardless stand-in the Worker talks to (GOCARDLESS_API_URL). */
  gocardless: string;
  /** Stops wrangler and workerd (the whole process group) and deletes the temp dir. */
  stop(): Promise<void>;
}

/** Test-only secrets (never used anywhere else). */
const DEV_VARS = [
  "BETTER_AUTH_SECRET=local-worker-secret-that-is-at-least-32-characters",
  "TOKEN_ENCRYPTION_KEYS=k1:u2z+GJPCgygIE1LAYQDO9Dq/++O4Uk8sC0Fi9yCLWwQ=",
  "TOKEN_FINGERPRINT_KEY=d+riBOOw1/5WvP2hKUZ0nsJvwRclScFn7aoog8Rz8ek=",
  "WEBHOOK_SECRET_GOCARDLESS=whsec_local_worker_0123456789abcdef",
  // Only the loopback stand-in ever sees it.
  "GOCARDLESS_ACCESS_TOKEN=local-stand-in",
].join("\n");

/** A port nobody listens on right now, on loopback. */
export async function freePort(): Promise<number> {
  const server = createServer().listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Starts `wrangler dev` for `main` (default: the Worker) on 127.0.0.1 and a
 * free port, with a config, `.dev.vars` and `--persist-to` of its own in a
 * temp dir, so neither the developer's `.dev.vars` nor their local state is
 * read. `prepare(config, persistTo)` runs before wrangler starts (migrate,
 * seed). GoCardless is a loopback stand-in of its own (`gocardless`).
 * Always call `stop()`.
 *
 * @example
 * ```ts
 * const worker = await startLocalWorker(repoRoot, { prepare: migrate })
 * try { await fetch(`${worker.url}/health`) } finally { await worker.stop() }
 * ```
 */
export async function startLocalWorker(
  repoRoot: string,
  options: { main?: string; prepare?: (config: string, persistTo: string) => Promise<void> } = {},
): Promise<LocalWorker> {
  const dir = await mkdtemp(path.join(tmpdir(), "local-worker-"));
  const config = path.join(dir, "wrangler.toml");
  const standIn = await startGoCardlessStandIn({ port: 0, log: () => {} });
  const persistTo = path.join(dir, "state");
  let pgid: number | undefined;
  const kill = () => {
    if (pgid === undefined) return;
    try {
      process.kill(-pgid, "SIGKILL");
    } catch {
      // Already gone.
    }
  };
  const stop = async () => {
    kill();
    await standIn.close();
    await rm(dir, { recursive: true, force: true });
  };
  const writeConfig = (url: string) =>
    writeFile(
      config,
      [
        `name = "billing-local-worker"`,
        `main = ${JSON.stringify(path.join(repoRoot, options.main ?? "src/index.ts"))}`,
        `compatibility_date = "2026-11-01"`,
        `compatibility_flags = ["nodejs_compat"]`,
        `[[d1_databases]]`,
        `binding = "DB"`,
        `database_name = "billing"`,
        `database_id = "00000000-0000-0000-0000-000000000000"`,
        `[vars]`,
        `BETTER_AUTH_URL = "${url}"`,
        `GOCARDLESS_API_URL = "${standIn.url}"`,
        "",
      ].join("\n"),
    );
  await writeFile(path.join(dir, ".dev.vars"), `${DEV_VARS}\n`);
  try {
    await writeConfig("http://127.0.0.1");
    await options.prepare?.(config, persistTo);
    const wranglerCli = createRequire(import.meta.url).resolve("wrangler");
    // A port found free can be taken by another process (any workerd binding
    // port 0) before wrangler, seconds later, binds it: wrangler then exits
    // "Address already in use". That is retried on new ports; any other exit
    // fails at once with wrangler's output.
    for (let attempt = 1; ; attempt++) {
      const [port, inspectorPort] = [await freePort(), await freePort()];
      const url = `http://127.0.0.1:${port}`;
      await writeConfig(url);
      const args = ["--no-warnings", wranglerCli, "dev", "--config", config, "--ip", "127.0.0.1", "--port", String(port)];
      args.push("--inspector-port", String(inspectorPort), "--persist-to", persistTo, "--log-level", "warn");
      // Its own process group, so stop() takes workerd down with wrangler.
      const child = spawn(process.execPath, args, {
        cwd: dir,
        detached: true,
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1" },
      });
      pgid = child.pid;
      let output = "";
      for (const stream of [child.stdout, child.stderr]) {
        // The last 8 KB is plenty for an error, and a long run does not grow it.
        stream.setEncoding("utf8").on("data", (chunk: string) => (output = (output + chunk).slice(-8_192)));
      }
      const exited = new Promise<string>((resolve) => child.on("exit", (code, signal) => resolve(`exited ${code ?? signal} before answering ${url}/health`)));
      // wrangler's import, the bundle and workerd's start take ~5 s of CPU: on 2 cores shared with a busy suite, allow far more.
      const outcome = await waitUntilServing(url, exited, 120_000);
      if (outcome === "serving") return { url, config, persistTo, gocardless: standIn.url, stop };
      kill();
      if (/Address already in use/.test(output) && attempt < 3) continue;
      // wrangler colours its errors even with NO_COLOR: plain text for the message.
      throw new Error(`wrangler dev ${outcome}; its output:\n${stripVTControlCharacters(output).trim()}`);
    }
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Polls `/health` until it answers 200 ("serving"), wrangler exits (how), or `ms` pass. */
async function waitUntilServing(url: string, exited: Promise<string>, ms: number): Promise<string> {
  let exit: string | undefined;
  void exited.then((how) => (exit = how));
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`${url}/health`, { signal: AbortSignal.timeout(2_000) })).ok) return "serving";
    } catch {
      // Not listening yet.
    }
    if (exit) return exit;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return exit ?? `did not answer ${url}/health within ${ms / 1000} s`;
}
