#!/usr/bin/env node
// Stands in for wrangler in tests (WRANGLER_BIN=<this file>): the migration
// CLI's Time Travel step cannot reach Cloudflare here. It accepts exactly
// `d1 time-travel info <STAND_IN_DATABASE> --json [--config <path>] [--env <name>]`
// and prints what wrangler prints for it: the API's result, `{ "bookmark": … }`,
// as JSON.stringify(result, null, 2). STAND_IN_FAIL=1 makes it fail as wrangler
// does without a login. Every call is appended to STAND_IN_LOG, if set.
import { appendFileSync } from "node:fs";

const args = process.argv.slice(2);
if (process.env.STAND_IN_LOG) appendFileSync(process.env.STAND_IN_LOG, `${JSON.stringify(args)}\n`);
const [d1, timeTravel, info, database, json, ...rest] = args;
const scopeOk = rest.length % 2 === 0 && rest.every((arg, i) => (i % 2 === 0 ? ["--config", "--env"].includes(arg) : !arg.startsWith("--")));
if (d1 !== "d1" || timeTravel !== "time-travel" || info !== "info" || database !== process.env.STAND_IN_DATABASE || json !== "--json" || !scopeOk) {
  console.error(`stand-in: unexpected arguments ${JSON.stringify(args)}`);
  process.exit(64);
}
if (process.env.STAND_IN_FAIL) {
  console.error("✘ [ERROR] In a non-interactive environment, it's necessary to set a CLOUDFLARE_API_TOKEN environment variable for wrangler to work.");
  process.exit(1);
}
if (process.env.STAND_IN_NOTICE) console.log(process.env.STAND_IN_NOTICE);
console.log(JSON.stringify({ bookmark: process.env.STAND_IN_BOOKMARK ?? "00000085-0000024c-00004c6d-8e61117bf38d7adb71b934ebbf891683" }, null, 2));
