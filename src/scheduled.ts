import { createGoCardlessClient, GoCardlessNotConfiguredError } from "./billing/gocardless/gocardless-client";
import { submitPendingAttempts } from "./billing/gocardless/submit-pending-attempts";
import { loadTokenKeyring } from "./billing/token-cipher";
import { getDb } from "./db/get-db";
import type { Env } from "./env";

/**
 * Attempts submitted per run. Each costs a `GET /mandates/:id` (whose mandate
 * it is) and a `POST /payments` (plus a `GET /payments/:id` when GoCardless
 * answers with an idempotency conflict) and one D1 write: 16 → at most 48
 * subrequests and 17 D1 queries, inside the free plan's 50 of each.
 */
export const SUBMIT_PER_RUN = 16;

/**
 * The Cron Trigger (`wrangler.toml` `[triggers]`): submits pending payment
 * attempts to GoCardless, oldest first, and logs one JSON summary line for
 * `wrangler tail`. Without `GOCARDLESS_ACCESS_TOKEN` it sends nothing and
 * logs why. Only submission for now; renewals, retries and deadlines are the
 * scheduled engine's (issue 11, item 1), which will run from here.
 *
 * @example
 * ```sh
 * wrangler dev --test-scheduled   # then: curl http://localhost:8787/__scheduled
 * ```
 */
export async function scheduled(controller: ScheduledController, env: Env): Promise<void> {
  const now = new Date(controller.scheduledTime);
  let client;
  try {
    client = createGoCardlessClient({ accessToken: env.GOCARDLESS_ACCESS_TOKEN, baseUrl: env.GOCARDLESS_API_URL });
  } catch (error) {
    if (!(error instanceof GoCardlessNotConfiguredError)) throw error;
    console.log(JSON.stringify({ job: "submit-payments", at: now.toISOString(), skipped: error.message }));
    return;
  }
  const keyring = await loadTokenKeyring(env.TOKEN_ENCRYPTION_KEYS);
  const summary = await submitPendingAttempts({ db: getDb(env.DB), client, keyring, now, limit: SUBMIT_PER_RUN });
  console.log(JSON.stringify({ job: "submit-payments", at: now.toISOString(), ...summary }));
}
