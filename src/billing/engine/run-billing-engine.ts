import type { Kysely } from "kysely";
import type { DB } from "../../db/generated";
import type { GoCardlessClient } from "../gocardless/gocardless-client";
import type { PaymentEvent } from "../webhooks/billing-event";
import { applyBillingEvent } from "../webhooks/apply-billing-event";
import { cancelSetAsidePayments } from "../gocardless/cancel-set-aside-payments";
import { submitPendingAttempts } from "../gocardless/submit-pending-attempts";
import type { TokenKeyring } from "../token-cipher";
import { applyDueTimeEvent } from "./apply-due-time-event";
import { createDueAttempt } from "./create-due-attempt";
import { findCollectionCandidates, findTimeEventCandidates } from "./due-work.repository";
import { EngineSummary, type EngineWorkKind, type WorkOutcome } from "./engine-summary";

/** How the run may reach GoCardless: a client, or why there is none (nothing is created or sent). */
export type EngineProvider = { client: GoCardlessClient; keyring: TokenKeyring } | { unavailable: string };

/**
 * One run of the scheduled billing engine at `now` (the Cron Trigger's
 * `scheduledTime`). It decides only *when*; what happens is the lifecycle
 * module's rule. Three sweeps, each at most `chunk` items, oldest first:
 *
 * 1. collections: renewals in their window and retries whose `nextRetryAt`
 *    passed get their pending attempt (unique per period and number) —
 *    first, so a retry due now is in flight before the past-due limit is read;
 * 2. time events: trials, periods and cancel-at-period-end that ended,
 *    never-paid deadlines, past-due subscriptions whose retries ran out;
 * 3. provider calls, `chunk` in all: payments we set aside are cancelled at
 *    GoCardless, then pending attempts go to GoCardless (Idempotency-Key =
 *    the attempt id), errors are recorded and retried with backoff. None
 *    starts once `outOfTime()` says the run's deadline came (counted `skipped`).
 *
 * D1 queries: 1 + chunk, 1 + 2·chunk, 2 + 2·chunk (≤ 4 + 5·chunk); provider
 * subrequests ≤ 4·chunk (docs/billing-engine.md). Without a provider
 * (no access token) only the time events run: nothing is created or charged.
 * An error on one item is counted `failed` and logged; the rest go on, and
 * the next run picks the item up again.
 *
 * @example
 * ```ts
 * const summary = await runBillingEngine({ db, now, chunk: 8, provider: { client, keyring } })
 * ```
 */
export async function runBillingEngine(deps: {
  db: Kysely<DB>;
  now: Date;
  chunk: number;
  provider: EngineProvider;
  /** True once the run must start no more provider calls (src/scheduled.ts: RUN_PROVIDER_DEADLINE_MS). */
  outOfTime?: () => boolean;
  /** The D1 binding, for the batches: an ending with its set-aside payments, what a payment learnt from GoCardless's API says happened (as a webhook). */
  d1: D1Database;
}): Promise<EngineSummary> {
  const { db, now, chunk, provider, outOfTime, d1 } = deps;
  const summary = new EngineSummary();
  const each = async <T extends { id: string }>(items: T[], fallback: EngineWorkKind, work: (item: T) => Promise<{ kind: EngineWorkKind; outcome: WorkOutcome }>) => {
    // One at a time: Kysely serialises D1 queries anyway, and the order is the sweep's.
    for (const item of items) {
      try {
        const { kind, outcome } = await work(item);
        summary.count(kind, outcome);
      } catch (error) {
        console.error(`billing engine: ${fallback} of subscription ${item.id} failed`, error);
        summary.count(fallback, "failed");
      }
    }
  };

  if (!("unavailable" in provider)) {
    await each(await findCollectionCandidates(db, now, chunk), "renewal", (candidate) => createDueAttempt(db, candidate, now));
  }
  await each(await findTimeEventCandidates(db, now, chunk), "period_end", (candidate) => applyDueTimeEvent(db, d1, candidate, now));
  if ("unavailable" in provider) return summary;

  // The provider sweeps share one chunk: cancelling what we set aside first (money may move), then sending.
  const { client, keyring } = provider;
  // Not recorded now (logged): its own webhook event applies it later, matched by the payment id now stored.
  const applyEvent = (event: PaymentEvent) => applyBillingEvent({ db, d1, provider: "gocardless", now, fingerprintKey: noFingerprintKey }, event).catch((cause: unknown) => console.error(`${event.eventId} not recorded`, cause));
  const cancels = await cancelSetAsidePayments({ db, client, keyring, now, limit: chunk, outOfTime, applyEvent });
  summary.add("cancel", cancels);
  summary.add("submit", await submitPendingAttempts({ db, client, keyring, now, limit: chunk - cancels.due, outOfTime, applyEvent }));
  // Past it, the sweeps started no more calls: what they left is counted `skipped`.
  if (outOfTime?.()) summary.deadline = "reached";
  return summary;
}

/** Payment events never read a token fingerprint. */
const noFingerprintKey = (): Promise<CryptoKey> => Promise.reject(new Error("unused"));
