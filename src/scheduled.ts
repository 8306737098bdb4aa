import { createGoCardlessClient, GoCardlessNotConfiguredError } from "./billing/gocardless/gocardless-client";
import { runBillingEngine, type EngineProvider } from "./billing/engine/run-billing-engine";
import { realTime } from "./billing/engine/engine-clocks";
import { SUBMISSION_LEASE_MS } from "./billing/gocardless/submit-pending-attempts";
import { loadTokenKeyring } from "./billing/token-cipher";
import { getDb } from "./db/get-db";
import type { Env } from "./env";

/**
 * Items per sweep when `BILLING_ENGINE_CHUNK` is not set: 4 + 5·8 = 44 D1 queries and
 * ≤ 32 subrequests (a submission costs `GET /mandates/:id`, `POST /payments`, on an
 * idempotency conflict `GET /payments/:id`, and when it is given up `GET /payments?mandate=`),
 * inside the free plan's 50 of each.
 */
export const DEFAULT_ENGINE_CHUNK = 8;
/** The largest chunk: 4 + 5·150 = 754 D1 queries, inside the paid plan's 1,000 per invocation. */
export const MAX_ENGINE_CHUNK = 150;

/**
 * How long after it starts (wall time) a run may still start a provider
 * call: half the submission lease. An item ends within 4 calls ×
 * GOCARDLESS_TIMEOUT_MS (40 s) of its claim, inside its 10-minute lease, which
 * runs from the claim in real time whatever scheduledTime says (a late or
 * dated-ahead invocation); so a run is done by 5 min 40 s, inside the 15-minute Cron
 * interval, whatever the chunk. docs/billing-engine.md has the arithmetic.
 */
export const RUN_PROVIDER_DEADLINE_MS = SUBMISSION_LEASE_MS / 2;

/**
 * The Cron Trigger (`wrangler.toml` `[triggers]`): one run of the scheduled
 * billing engine at `controller.scheduledTime` (src/billing/engine/), then
 * one JSON summary line for `wrangler tail`. Without `GOCARDLESS_ACCESS_TOKEN`
 * it applies the time events only, creates and sends nothing, and says why.
 *
 * @example
 * ```sh
 * wrangler dev --test-scheduled   # then: curl "http://localhost:8787/cdn-cgi/local/scheduled?time=1767225600000"
 * ```
 */
export async function scheduled(controller: ScheduledController, env: Env): Promise<void> {
  const now = new Date(controller.scheduledTime);
  const chunk = engineChunk(env.BILLING_ENGINE_CHUNK);
  let provider: EngineProvider;
  try {
    const client = createGoCardlessClient({ accessToken: env.GOCARDLESS_ACCESS_TOKEN, baseUrl: env.GOCARDLESS_API_URL });
    provider = { client, keyring: await loadTokenKeyring(env.TOKEN_ENCRYPTION_KEYS) };
  } catch (error) {
    if (!(error instanceof GoCardlessNotConfiguredError)) throw error;
    provider = { unavailable: error.message };
  }
  // Real time, not scheduledTime: the deadline bounds how long this invocation runs.
  const deadline = +realTime() + RUN_PROVIDER_DEADLINE_MS;
  const summary = await runBillingEngine({ db: getDb(env.DB), d1: env.DB, now, chunk, provider, outOfTime: () => +realTime() >= deadline });
  const line = { job: "billing-engine", at: now.toISOString(), cron: controller.cron, chunk, ...summary.totals(), byKind: summary.byKind, deadline: summary.deadline };
  console.log(JSON.stringify("unavailable" in provider ? { ...line, collection: "skipped", reason: provider.unavailable } : line));
}

/** `BILLING_ENGINE_CHUNK` as a whole number in 1..MAX_ENGINE_CHUNK; anything else is a configuration error said plainly. */
function engineChunk(value: string | undefined): number {
  if (value === undefined || value.trim() === "") return DEFAULT_ENGINE_CHUNK;
  const chunk = Number(value);
  if (!Number.isInteger(chunk) || chunk < 1 || chunk > MAX_ENGINE_CHUNK) {
    throw new Error(`BILLING_ENGINE_CHUNK must be a whole number from 1 to ${MAX_ENGINE_CHUNK}, got ${JSON.stringify(value)}`);
  }
  return chunk;
}
