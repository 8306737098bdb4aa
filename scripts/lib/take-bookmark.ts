import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { TargetOptions } from "./cli-flags";
import { loadWrangler } from "./load-wrangler";

const PROJECT_WRANGLER = path.resolve(fileURLToPath(new URL("../../node_modules/.bin/wrangler", import.meta.url)));

/** D1's Time Travel bookmark of a remote database, and how to restore it. */
export interface Bookmark {
  database: string;
  bookmark: string;
  /** The exact command that restores the database to this bookmark. */
  restoreCommand: string;
}

// Bookmarks look like 00000085-0000024c-00004c6d-8e61117bf38d7adb71b934ebbf891683; the
// value also goes into a file name, so nothing else is accepted.
const BOOKMARK = /^[0-9a-f]{8}(?:-[0-9a-f]{8}){2}-[0-9a-f]{32}$/i;

/**
 * Takes the current Time Travel bookmark of the target's D1 database with
 * `<wrangler> d1 time-travel info <database> --json` (which prints
 * `{ "bookmark": "…" }`). The program is `$WRANGLER_BIN` when set, else the
 * project's wrangler (a stand-in on `PATH` would not win: pnpm puts
 * `node_modules/.bin` first). Throws one line saying what failed.
 *
 * @example
 * ```ts
 * const { bookmark, restoreCommand } = await takeBookmark(target)
 * ```
 */
export async function takeBookmark(target: TargetOptions, wranglerBin = process.env.WRANGLER_BIN || PROJECT_WRANGLER): Promise<Bookmark> {
  // Loaded here: every kysely:migrate command (a usage error included) imports this module.
  const { unstable_readConfig } = loadWrangler();
  const config = unstable_readConfig({ config: target.config, env: target.env });
  const database = config.d1_databases.find((binding: { binding: string }) => binding.binding === "DB")?.database_name;
  if (!database) throw new Error(`${target.config} names no database_name for the DB binding; Time Travel needs it`);
  const scope = ["--config", target.config, ...(target.env ? ["--env", target.env] : [])];
  const args = ["d1", "time-travel", "info", database, "--json", ...scope];
  const { code, stdout, stderr } = await run(wranglerBin, args);
  const command = `${path.basename(wranglerBin)} ${args.join(" ")}`;
  if (code !== 0) throw new Error(`${command} exited ${code}: ${lastLine(stderr) || lastLine(stdout) || "no output"}`);
  // The JSON starts at the first line that opens an object: a notice printed before it is no reason to stop.
  const json = stdout.slice(Math.max(0, stdout.search(/^\{/m)));
  let bookmark: unknown;
  try {
    bookmark = (JSON.parse(json) as { bookmark?: unknown } | null)?.bookmark;
  } catch {
    throw new Error(`${command} printed no JSON: ${lastLine(stdout) || "no output"}`);
  }
  if (typeof bookmark !== "string" || !BOOKMARK.test(bookmark)) {
    throw new Error(`${command} printed no bookmark: ${JSON.stringify(bookmark ?? null).slice(0, 100)}`);
  }
  return { database, bookmark, restoreCommand: `wrangler d1 time-travel restore ${database} --bookmark=${bookmark}${target.env ? ` --env ${target.env}` : ""}` };
}

function run(program: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    // A wrangler waiting on a login prompt or the network must not hold the run forever.
    const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${program}: ${error.message}`));
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr });
    });
  });
}

function lastLine(text: string): string {
  return text.trim().split("\n").at(-1)?.trim() ?? "";
}
