/**
 * `pnpm bench:webhooks`: what full GoCardless webhook deliveries (250 events)
 * cost the Worker in D1 queries, printed — each D1 call counts against D1's
 * per-invocation limit (1,000 paid / 50 free):
 * - 250 `payments.confirmed` about 250 different payments;
 * - the same delivery again (all duplicates);
 * - 125 payments × (`submitted`, `confirmed`): each confirmed waits for its
 *   payment's submitted, one round later.
 *
 * Runs the Worker's Hono app in Node on a throwaway local D1 (a temp
 * `--persist-to`, deleted afterwards), migrated to latest, with each delivery
 * signed as GoCardless signs it. No wall times: through wrangler's platform
 * proxy every statement is a local HTTP round trip (about 25 ms each for a
 * 125-statement batch here), nothing like a deployed Worker's.
 * test/worker/gocardless-webhook-bulk.test.ts asserts the counts.
 *
 * @example
 * ```sh
 * corepack pnpm -s bench:webhooks
 * ```
 */
import { createHmac } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { migrations } from "../migrations/index";
import { app } from "../src/app";
import { runMigrations } from "../src/db/migration/run-migrations";
import { sqliteWasmAnalyser } from "../src/db/migration/sqlite-wasm-analyser";
import type { Env } from "../src/env";
import { confirmedEvents, countingD1, MAX_EVENTS_PER_DELIVERY, seedPendingAttempts, type D1Calls } from "../test/support/bulk-delivery";
import { exitWithError } from "./lib/exit-with-error";
import { usingD1 } from "./lib/using-d1";

const SECRET = "bench-webhook-secret";

async function main(): Promise<void> {
  const stateDir = await mkdtemp(path.join(os.tmpdir(), "bench-webhooks-"));
  try {
    const target = { remote: false, env: undefined, persistTo: stateDir, config: "wrangler.toml" };
    await usingD1(target, async (database) => {
      await runMigrations(database, { verb: "latest" }, { migrations, analyser: sqliteWasmAnalyser() });
      const distinct = await seedPendingAttempts(database, MAX_EVENTS_PER_DELIVERY, "distinct");
      const confirmed = JSON.stringify({ events: confirmedEvents(distinct, "D") });
      const paired = await seedPendingAttempts(database, MAX_EVENTS_PER_DELIVERY / 2, "paired");
      const pairs = confirmedEvents(paired, "P").flatMap((event) => [{ ...event, id: `${event.id}S`, action: "submitted" }, event]);
      const rows = [
        { delivery: "250 payments confirmed", calls: await deliver(database, confirmed) },
        { delivery: "the same again (duplicates)", calls: await deliver(database, confirmed) },
        { delivery: "125 × submitted + confirmed", calls: await deliver(database, JSON.stringify({ events: pairs })) },
      ];
      console.log(`D1 queries per ${MAX_EVENTS_PER_DELIVERY}-event GoCardless delivery (counted at the binding)\n`);
      console.log(`${"delivery".padEnd(30)} ${"queries".padStart(7)}  reads + batches  statements in batches`);
      for (const { delivery, calls } of rows) {
        console.log(
          `${delivery.padEnd(30)} ${String(calls.statements + calls.batches).padStart(7)}  ${`${calls.statements} + ${calls.batches}`.padEnd(15)}  ${String(calls.batchedStatements).padStart(21)}`,
        );
      }
      console.log("\nD1 allows 1,000 queries per Worker invocation on the paid plan, 50 on the free plan.");
    });
  } finally {
    await rm(stateDir, { recursive: true, force: true });
  }
}

async function deliver(database: D1Database, rawBody: string): Promise<D1Calls> {
  const { d1, calls } = countingD1(database);
  const signature = createHmac("sha256", SECRET).update(rawBody).digest("hex");
  const env = { DB: d1, WEBHOOK_SECRET_GOCARDLESS: SECRET, BETTER_AUTH_URL: "http://localhost:8787" } as Env;
  const response = await app.fetch(
    new Request("http://localhost:8787/api/billing/webhooks/gocardless", {
      method: "POST",
      body: rawBody,
      headers: { "content-type": "application/json", "Webhook-Signature": signature },
    }),
    env,
  );
  if (response.status !== 200) throw new Error(`delivery answered ${response.status}: ${await response.text()}`);
  return calls;
}

main().catch((error) => exitWithError(error));
