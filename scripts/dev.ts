/**
 * `pnpm dev [wrangler dev flags]`: creates .dev.vars on first run, migrates
 * the local D1 to latest, then serves the Worker with `wrangler dev`. Without
 * a GOCARDLESS_ACCESS_TOKEN in .dev.vars it also serves a loopback stand-in of
 * GoCardless's API and points the Worker at it (`--var`), so payments can be
 * submitted offline; a real token (sandbox) is used as configured.
 */
import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { constants } from "node:os";
import { parseEnv } from "node:util";
import { migrations } from "../migrations/index";
import { runMigrations } from "../src/db/migration/run-migrations";
import { exitWithError } from "./lib/exit-with-error";
import { formatRunReport } from "./lib/format-run-report";
import { devTarget } from "./lib/dev-target";
import { ensureDevVars } from "./lib/ensure-dev-vars";
import { startGoCardlessStandIn } from "./lib/gocardless-stand-in";
import { usingD1 } from "./lib/using-d1";

async function main(wranglerArgs: string[]): Promise<number> {
  if (await ensureDevVars(".dev.vars", ".dev.vars.example")) {
    console.log("created .dev.vars with fresh random secrets (git-ignored)");
  }
  // The database wrangler dev will serve, given the flags passed through to it.
  const target = devTarget(wranglerArgs);
  const report = await usingD1(target, (db) => runMigrations(db, { verb: "latest" }, { migrations }));
  const { lines, exitCode } = formatRunReport(report);
  for (const line of lines) console.log(line);
  if (exitCode !== 0) return exitCode;

  const devVars = parseEnv(await readFile(".dev.vars", "utf8"));
  const standInArgs: string[] = [];
  if (!devVars.GOCARDLESS_ACCESS_TOKEN?.trim()) {
    const standIn = await startGoCardlessStandIn({ port: 0 });
    console.log(`no GOCARDLESS_ACCESS_TOKEN in .dev.vars: payments go to a local GoCardless stand-in at ${standIn.url}`);
    standInArgs.push("--var", `GOCARDLESS_API_URL:${standIn.url}`, "--var", "GOCARDLESS_ACCESS_TOKEN:local-stand-in");
  }

  // wrangler's own JS on this Node, not its bin shims: a shim (a shell) that
  // gets a signal dies alone and leaves wrangler and workerd running.
  const wranglerCli = createRequire(import.meta.url).resolve("wrangler");
  const wrangler = spawn(process.execPath, ["--no-warnings", wranglerCli, "dev", ...standInArgs, ...wranglerArgs], { stdio: "inherit" });
  // Ctrl-C reaches wrangler through the terminal's process group, but a
  // SIGTERM or SIGHUP sent to this process alone must reach it too; then wait
  // for it to stop workerd.
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => wrangler.kill(signal));
  return new Promise((resolve) =>
    wrangler.on("exit", (code, signal) => resolve(code ?? 128 + (signal ? constants.signals[signal] : 0))),
  );
}

main(process.argv.slice(2)).then((code) => process.exit(code), exitWithError);
