/**
 * `pnpm dev [wrangler dev flags]`: creates .dev.vars on first run, migrates
 * the local D1 to latest, then serves the Worker with `wrangler dev`.
 */
import { spawn } from "node:child_process";
import { migrations } from "../migrations/index";
import { runMigrations } from "../src/db/migration/run-migrations";
import { exitWithError } from "./lib/exit-with-error";
import { formatRunReport } from "./lib/format-run-report";
import { ensureDevVars } from "./lib/ensure-dev-vars";
import { usingD1 } from "./lib/using-d1";

async function main(wranglerArgs: string[]): Promise<number> {
  if (await ensureDevVars(".dev.vars", ".dev.vars.example")) {
    console.log("created .dev.vars with fresh random secrets (git-ignored)");
  }
  const target = { remote: false, env: undefined, persistTo: undefined, config: "wrangler.toml" };
  const report = await usingD1(target, (db) => runMigrations(db, { verb: "latest" }, { migrations }));
  const { lines, exitCode } = formatRunReport(report);
  for (const line of lines) console.log(line);
  if (exitCode !== 0) return exitCode;

  const wrangler = spawn("wrangler", ["dev", ...wranglerArgs], { stdio: "inherit" });
  // Ctrl-C reaches wrangler through the terminal's process group; just wait for it.
  return new Promise((resolve) => wrangler.on("exit", (code, signal) => resolve(code ?? (signal ? 130 : 1))));
}

main(process.argv.slice(2)).then((code) => process.exit(code), exitWithError);
