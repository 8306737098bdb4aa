/**
 * `pnpm dev [wrangler dev flags]`: creates .dev.vars on first run (or fills
 * placeholders left in it), makes Better Auth trust the served origin, migrates
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
import { sqliteWasmAnalyser } from "../src/db/migration/sqlite-wasm-analyser";
import { currentChecksums } from "./lib/current-checksums";
import { exitWithError } from "./lib/exit-with-error";
import { formatRunReport } from "./lib/format-run-report";
import { devAuthVars } from "./lib/dev-origin";
import { devTarget } from "./lib/dev-target";
import { ensureDevVars } from "./lib/ensure-dev-vars";
import { startGoCardlessStandIn } from "./lib/gocardless-stand-in";
import { noteStandInUrl, readStandInUrl } from "./lib/stand-in-url-file";
import { runSafeguards } from "./lib/run-safeguards";
import { usingD1 } from "./lib/using-d1";

async function main(wranglerArgs: string[]): Promise<number> {
  const devVars = await ensureDevVars(".dev.vars", ".dev.vars.example");
  if (devVars === "created") console.log("created .dev.vars with fresh random secrets (git-ignored)");
  if (devVars === "repaired") console.log("replaced the placeholder secrets in .dev.vars with fresh random ones");
  // The database wrangler dev will serve, given the flags passed through to it.
  const target = devTarget(wranglerArgs);
  const authVars = devAuthVars(wranglerArgs);
  // The same checksum safeguard as `kysely:migrate latest`: an edited applied migration stops here.
  const { checksums } = await currentChecksums(migrations);
  const report = await usingD1(target, (db) =>
    runMigrations(db, { verb: "latest" }, {
      migrations,
      analyser: sqliteWasmAnalyser(),
      beforeCommit: runSafeguards(db, { checksums, acceptEdited: [], log: console.log }).beforeCommit,
    }),
  );
  const { lines, exitCode } = formatRunReport(report);
  for (const line of lines) console.log(line);
  if (exitCode !== 0) return exitCode;

  const vars = parseEnv(await readFile(".dev.vars", "utf8"));
  const standInArgs: string[] = [];
  let standInUrl: string | undefined;
  if (!vars.GOCARDLESS_ACCESS_TOKEN?.trim()) {
    // 4010 when free, else any free port: its URL is noted for `pnpm billing:simulate` either way.
    const standIn = await startGoCardlessStandIn({ port: 4010 }).catch(() => startGoCardlessStandIn({ port: 0 }));
    standInUrl = standIn.url;
    console.log(`no GOCARDLESS_ACCESS_TOKEN in .dev.vars: payments go to a local GoCardless stand-in at ${standIn.url}`);
    standInArgs.push("--var", `GOCARDLESS_API_URL:${standIn.url}`, "--var", "GOCARDLESS_ACCESS_TOKEN:local-stand-in");
  }
  // Noted (or, with a real token, forgotten) where `pnpm billing:simulate` looks.
  await noteStandInUrl(standInUrl);

  // wrangler's own JS on this Node, not its bin shims: a shim (a shell) that
  // gets a signal dies alone and leaves wrangler and workerd running.
  const wranglerCli = createRequire(import.meta.url).resolve("wrangler");
  const wrangler = spawn(process.execPath, ["--no-warnings", wranglerCli, "dev", ...standInArgs, ...wranglerArgs, ...authVars], { stdio: "inherit" });
  // Ctrl-C reaches wrangler through the terminal's process group, but a
  // SIGTERM or SIGHUP sent to this process alone must reach it too; then wait
  // for it to stop workerd.
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => wrangler.kill(signal));
  const code = await new Promise<number>((resolve) =>
    wrangler.on("exit", (exitCode, signal) => resolve(exitCode ?? 128 + (signal ? constants.signals[signal] : 0))),
  );
  // A stopped stand-in must not be found; a later `pnpm dev` may have noted its own meanwhile.
  if (standInUrl !== undefined && (await readStandInUrl()) === standInUrl) await noteStandInUrl(undefined);
  return code;
}

main(process.argv.slice(2)).then((code) => process.exit(code), exitWithError);
