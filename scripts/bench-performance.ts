/**
 * The request path's numbers, printed side by side (asserts nothing; CI's
 * tests check correctness, this says what it costs):
 * 1. each hot query as Kysely (the repository function) vs the same SQL as a
 *    raw D1 prepared statement vs a Drizzle prepared statement: medians of
 *    interleaved rounds inside workerd, and D1's rows read vs returned;
 * 2. a signed-in billing read under 50 concurrent clients: req/s, p50, p99,
 *    vs a raw-D1 handler with the same session check;
 * 3. the bundle: the Worker vs the same Worker without billing.
 *
 * Everything runs on `wrangler dev` on loopback with a throwaway config,
 * secrets and state (scripts/lib/local-worker.ts).
 *
 * @example
 * ```sh
 * corepack pnpm -s exec tsx scripts/bench-performance.ts
 * corepack pnpm -s exec tsx scripts/bench-performance.ts --queries-only --rounds 60
 * ```
 */
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { prepareBillingState, setUpLoadUsers, type LoadUser } from "./lib/billing-load";
import { exitWithError } from "./lib/exit-with-error";
import { startLocalWorker, type LocalWorker } from "./lib/local-worker";
import { measureBundles } from "./lib/measure-bundles";
import { measureQueryOverhead } from "./lib/query-overhead";

const REPO_ROOT = path.resolve(fileURLToPath(new URL("..", import.meta.url)));
const flags = readFlags();
const QUERY_ROUNDS = Number(flags.rounds);

/** `--queries-only` (skip the load and bundle parts), `--rounds N` (default 30). */
function readFlags() {
  try {
    const { values } = parseArgs({ options: { "queries-only": { type: "boolean", default: false }, rounds: { type: "string", default: "30" } } });
    if (!/^[1-9]\d{0,3}$/.test(values.rounds)) throw new TypeError(`--rounds must be a whole number from 1 to 9999, not '${values.rounds}'`);
    return values;
  } catch (error) {
    console.error(`error: ${(error as Error).message}`);
    process.exit(2);
  }
}
const LOAD_CLIENTS = 50;
const LOAD_SECONDS = 8;

interface QueryReport {
  name: string;
  kysely: number;
  raw: number;
  drizzle: number;
  rowsRead: number;
  rowsReturned: number;
}

async function main(): Promise<number> {
  console.log(`node ${process.version}, ${os.availableParallelism()} CPUs, load avg ${os.loadavg()[0]!.toFixed(2)}`);
  const worker = await startLocalWorker(REPO_ROOT, { main: "scripts/bench/bench-worker.ts", prepare: prepareBillingState });
  try {
    const users = await setUpLoadUsers(worker);
    await printQueries(worker, users[0]!);
    if (flags["queries-only"]) {
      await printOverhead();
      return 0;
    }
    await printLoad(worker, users);
  } finally {
    await worker.stop();
  }
  await printOverhead();
  const { full, authOnly } = await measureBundles(REPO_ROOT);
  console.log("\nBundle (wrangler deploy --dry-run --minify): Worker vs the same Worker without billing");
  console.log(`  minified ${kib(full.minifiedBytes)} vs ${kib(authOnly.minifiedBytes)}: ${(full.minifiedBytes / authOnly.minifiedBytes).toFixed(3)}×`);
  console.log(`  gzip     ${kib(full.gzipBytes)} vs ${kib(authOnly.gzipBytes)}: ${(full.gzipBytes / authOnly.gzipBytes).toFixed(3)}×`);
  return 0;
}

async function printQueries(worker: LocalWorker, user: LoadUser): Promise<void> {
  const session = await (await get(worker, "/api/auth/get-session", user.cookie)).json() as { user: { id: string } };
  const key = "bench-key";
  const started = await fetch(`${worker.url}/api/billing/subscriptions/${user.subscriptionIds[0]}/payment-attempts`, {
    method: "POST",
    headers: { origin: worker.url, cookie: user.cookie, "idempotency-key": key, "content-type": "application/json" },
    body: "{}",
  });
  if (started.status !== 201) throw new Error(`starting a payment answered ${started.status}`);
  const query = new URLSearchParams({ user: session.user.id, subscription: user.subscriptionIds[0]!, key, rounds: String(QUERY_ROUNDS) });
  const response = await get(worker, `/bench/queries?${query}`);
  if (!response.ok) throw new Error(`/bench/queries answered ${response.status}: ${await response.text()}`);
  const report = (await response.json()) as QueryReport[];
  console.log(`\nHot queries inside workerd, median of ${QUERY_ROUNDS} interleaved rounds of 10 calls (ms per call; ratio to raw D1)`);
  console.log(`  ${"query".padEnd(30)} ${"raw".padStart(7)} ${"kysely".padStart(7)} ${"×raw".padStart(6)} ${"drizzle".padStart(8)} ${"×raw".padStart(6)}  rows read/returned`);
  for (const row of report) {
    console.log(
      `  ${row.name.padEnd(30)} ${row.raw.toFixed(3).padStart(7)} ${row.kysely.toFixed(3).padStart(7)} ${(row.kysely / row.raw).toFixed(2).padStart(6)} ${row.drizzle.toFixed(3).padStart(8)} ${(row.drizzle / row.raw).toFixed(2).padStart(6)}  ${row.rowsRead}/${row.rowsReturned}`,
    );
  }
}

/**
 * workerd's clock moves only on I/O and a loaded machine swamps a D1 call with
 * scheduling noise, so the JavaScript each variant adds around D1 is also
 * timed alone: in Node, over a stub binding that answers at once.
 */
async function printOverhead(): Promise<void> {
  const rounds = QUERY_ROUNDS;
  console.log(`\nJavaScript around D1 per call (Node, stub D1 answering at once), µs: median [p10–p90] of ${rounds} interleaved rounds of 2000 calls`);
  for (const { query, rows } of await measureQueryOverhead(rounds)) {
    console.log(`  ${query}`);
    for (const row of rows) console.log(`    ${row.name.padEnd(34)} ${row.median.toFixed(1).padStart(7)}  [${row.p10.toFixed(1)}–${row.p90.toFixed(1)}]`);
  }
}

async function printLoad(worker: LocalWorker, users: LoadUser[]): Promise<void> {
  console.log(`\nSigned-in read under ${LOAD_CLIENTS} concurrent clients, ${LOAD_SECONDS} s each`);
  const results: [string, Throughput][] = [];
  // Worker, raw, Worker again: the two Worker runs show how much the machine drifted.
  for (const [label, target] of [
    ["Worker: GET /api/billing/subscriptions", "/api/billing/subscriptions"],
    ["raw D1 handler, same session check", "/bench/raw/subscriptions"],
    ["Worker again", "/api/billing/subscriptions"],
  ] as const) {
    const result = await throughput(worker, target, users);
    results.push([label, result]);
    console.log(
      `  ${label.padEnd(40)} ${result.perSecond.toFixed(1).padStart(7)} req/s  p50 ${result.p50.toFixed(1)} ms  p99 ${result.p99.toFixed(1)} ms  errors ${result.errors}  D1 statements/request ${result.statements.toFixed(1)}`,
    );
  }
  const worker1 = results[0]![1].perSecond;
  const worker2 = results[2]![1].perSecond;
  const raw = results[1]![1].perSecond;
  console.log(`  Worker / raw req/s: ${(((worker1 + worker2) / 2) / raw).toFixed(2)}× (mean of the two Worker runs)`);
}

interface Throughput {
  perSecond: number;
  p50: number;
  p99: number;
  errors: number;
  /** Mean D1 statements per answered request (the bench Worker's `x-bench-d1-statements`). */
  statements: number;
}

async function throughput(worker: LocalWorker, target: string, users: LoadUser[]): Promise<Throughput> {
  const latencies: number[] = [];
  let errors = 0;
  let statements = 0;
  const started = performance.now();
  const deadline = started + LOAD_SECONDS * 1000;
  await Promise.all(
    Array.from({ length: LOAD_CLIENTS }, async (_, c) => {
      // Each client keeps the cookies it is given, like a browser (a refreshed session cache cookie).
      const jar = new Map(users[c % users.length]!.cookie.split("; ").map(splitCookie));
      while (performance.now() < deadline) {
        const t = performance.now();
        const response = await get(worker, target, [...jar].map(([name, value]) => `${name}=${value}`).join("; "));
        await response.arrayBuffer();
        for (const setCookie of response.headers.getSetCookie()) {
          jar.set(...splitCookie(setCookie.split(";")[0]!));
        }
        if (response.status === 200) {
          latencies.push(performance.now() - t);
          statements += Number(response.headers.get("x-bench-d1-statements"));
        } else errors++;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((x, y) => x - y);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
  return { perSecond: latencies.length / seconds, p50: at(0.5), p99: at(0.99), errors, statements: statements / latencies.length };
}

/** `name=value` → [name, value] (the value may hold "="). */
function splitCookie(pair: string): [string, string] {
  const separator = pair.indexOf("=");
  return [pair.slice(0, separator), pair.slice(separator + 1)];
}

function get(worker: LocalWorker, target: string, cookie?: string): Promise<Response> {
  return fetch(`${worker.url}${target}`, { headers: { origin: worker.url, ...(cookie && { cookie }) } });
}

const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

main().then((code) => process.exit(code), (error) => exitWithError(error));
