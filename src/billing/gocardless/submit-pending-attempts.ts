import { BILLING_LIMITS as L } from "../../db/billing-limits";
import { nextRetryAt, nextSubmissionAt, SUBMISSION_BACKOFF_MS } from "../retry-schedule";
import { storableText } from "../../db/storable-text";
import { attemptMandateId } from "./attempt-mandate-id";
import { GoCardlessApiError } from "./gocardless-api-error";
import type { GoCardlessClient, GoCardlessPayment } from "./gocardless-client";
import { findAttemptPayment } from "./find-attempt-payment";
import { paymentStatusEvent } from "./payment-status-event";
import type { ProviderSweepDeps } from "./provider-sweep-deps";
import type { WorkCounts } from "../engine/engine-summary";
import { mandateOwner } from "./mandate-owner";
import { wroteRows } from "../../db/wrote-rows";
import { ENDED_SUBSCRIPTION_STATUSES } from "../../db/billing-enums";
import { periodFailures } from "../payment-attempts.repository";
import { realTime } from "../engine/engine-clocks";

/**
 * How long a run holds an attempt it is sending, from the claim, in real time
 * (engine-clocks.ts, whatever the run's scheduledTime): an overlapping run leaves it
 * alone meanwhile, and if the run dies mid-call a later run sends it again
 * (same Idempotency-Key) once the lease ran out.
 */
export const SUBMISSION_LEASE_MS = 10 * 60 * 1000;

/**
 * Submits up to `limit` pending GoCardless attempts, oldest first. Each first
 * asks GoCardless whose mandate it is (`GET /mandates/:id`): unless its
 * `links.customer` is the customer the app created for the token's owner,
 * nothing is sent (`mandate_not_yours`, or `provider_customer_missing` when the
 * owner has none). Then one `POST /payments` (Idempotency-Key = the attempt id, so submitting an attempt
 * again — after a crash between the call and the write below — returns the
 * payment GoCardless already has, never a second one):
 * - success: the attempt becomes `processing` with the provider's payment id;
 * - an error (GoCardless's code + message, or `network_error`, or a token that
 *   cannot be decrypted) is recorded on the attempt, which
 *   stays `pending` with `nextRetryAt` = {@link nextSubmissionAt}: a later run
 *   sends it again (same Idempotency-Key) once that time passed; a 422 refusal
 *   (no payment created) with `nextRetryAt` null, sent again by the next run. After
 *   BILLING_POLICY.submissionGiveUpDays from its first try (`firstTriedAt`)
 *   GoCardless is first asked whether it holds the attempt's payment anyway
 *   (a lost answer: findAttemptPayment),
 *   which is then recorded; only when it holds none does the attempt become
 *   `failed`, with the retry schedule's `nextRetryAt` (dunning goes on as after
 *   a refused collection). When it cannot be asked, the attempt stays `pending`
 *   and is asked again a day later.
 * The lease, the backoff and the give-up are real time, the retry schedule and
 * `chargeDate` the run's `now` (engine-clocks.ts): a run dated ahead sends
 * nothing inside a backoff or a lease.
 * A payment learnt from the API whose status moved on is applied through
 * `applyEvent` (paymentStatusEvent). Once `outOfTime()` says so, no attempt is
 * started (counted `skipped`; the next run takes it).
 * One D1 read, then per attempt a guarded claim (a lease: an overlapping run
 * skips it), two provider calls (three when the payment existed already, one
 * more for the lookup when giving up) and one guarded write: a `limit` of L
 * costs 1 + 2L queries and at most 4L subrequests.
 *
 * An attempt of a subscription that ended is never sent: it becomes `canceled`
 * (`subscription_ended`; `providerCancel = 'due'` when an earlier send may have
 * reached GoCardless); nor one whose token is no longer active (`token_revoked`,
 * the same way: released, no failure); one of a subscription set to cancel at
 * the period's end is not picked (nothing more is due) until it is resumed or ends.
 *
 * `chargeDate`: a renewal whose period has not ended yet is collected on its
 * period's last day; anything already owed is collected as soon as the
 * mandate allows (no `charge_date`, GoCardless's default).
 *
 * @example
 * ```ts
 * const summary = await submitPendingAttempts({ db, client, keyring, now: new Date(), limit: 20 })
 * ```
 */
export async function submitPendingAttempts(deps: ProviderSweepDeps<GoCardlessClient>): Promise<WorkCounts> {
  const { db, client, keyring, now } = deps;
  const at = now.toISOString();
  const pending = await db
    .selectFrom("payment_attempts as attempt")
    .leftJoin("direct_debit_tokens as token", "token.id", "attempt.directDebitTokenId")
    .leftJoin("user_subscriptions as subscription", "subscription.id", "attempt.subscriptionId")
    .leftJoin("provider_customers as customer", (join) =>
      join.onRef("customer.userId", "=", "token.userId").on("customer.provider", "=", "gocardless"),
    )
    .select([
      "attempt.id",
      "attempt.amountMinor",
      "attempt.currency",
      periodFailures.as("failures"),
      "attempt.createdAt",
      "attempt.firstTriedAt",
      "attempt.nextRetryAt",
      "token.id as tokenId",
      "token.status as tokenStatus",
      "token.tokenCiphertext",
      "token.tokenKeyId",
      "subscription.status as subscriptionStatus",
      "subscription.currentPeriodEnd",
      "customer.customerId",
    ])
    .where("attempt.provider", "=", "gocardless")
    .where("attempt.status", "=", "pending")
    .where("attempt.providerPaymentId", "is", null)
    // Its lease or backoff over in real time (engine-clocks.ts), not by the run's date.
    .where((eb) => eb.or([eb("attempt.nextRetryAt", "is", null), eb("attempt.nextRetryAt", "<=", realTime().toISOString())]))
    // Held while its subscription ends at the period's end (nothing more is due, payment-due.ts): sent once resumed.
    .where("subscription.cancelAtPeriodEnd", "is not", 1)
    .orderBy("attempt.createdAt")
    .orderBy("attempt.id")
    .limit(deps.limit)
    .execute();

  // skipped: claimed by an overlapping run first, or left at the run's deadline.
  const summary: WorkCounts = { due: pending.length, done: 0, skipped: 0, failed: 0 };
  for (const attempt of pending) {
    // Past the run's deadline no provider call starts: the attempt waits for the next run.
    if (deps.outOfTime?.()) {
      summary.skipped++;
      continue;
    }
    const update = db.updateTable("payment_attempts").where("id", "=", attempt.id).where("status", "=", "pending").where("providerPaymentId", "is", null);
    // Claim it first (one guarded write): of two overlapping runs only one sends, whatever their
    // dates. The lease and the backoff are real time: a run invoked late, or dated ahead, holds
    // what it sends for as long as it really sends it, and resends nothing inside a backoff.
    // The give-up counts from the first try: a run fired days ahead, or the first after days
    // without runs, gives up nothing at once.
    const tried = realTime();
    const firstTriedAt = attempt.firstTriedAt ?? tried.toISOString();
    const claimed = await update
      .set({ nextRetryAt: new Date(+tried + SUBMISSION_LEASE_MS).toISOString(), firstTriedAt, updatedAt: at })
      .where((eb) => eb.or([eb("nextRetryAt", "is", null), eb("nextRetryAt", "<=", tried.toISOString())]))
      .executeTakeFirst();
    if (!wroteRows(claimed)) {
      summary.skipped++;
      continue;
    }
    // Never sent when nothing can take it: the lifecycle takes no payment for an ended subscription
    // (decide refuses `payment_submitted`), and a token that can no longer be charged (revoked, or
    // cancelled, failed or expired at GoCardless; also when that happened as the attempt was inserted)
    // releases it (docs/gocardless.md): set aside, no failure. Cancelled at GoCardless too when an
    // earlier send (nextRetryAt set) may have reached it, once this claim's lease (kept in nextRetryAt) ended.
    const ended = (ENDED_SUBSCRIPTION_STATUSES as readonly unknown[]).includes(attempt.subscriptionStatus);
    if (ended || attempt.tokenStatus !== "active") {
      await update.set({ status: "canceled", failureCode: ended ? "subscription_ended" : "token_revoked", providerCancel: attempt.nextRetryAt ? "due" : null, updatedAt: at }).execute();
      summary.done++;
      continue;
    }
    const record = async (payment: GoCardlessPayment) => {
      try {
        const stored = await update.set({ status: "processing", providerPaymentId: payment.id, failureCode: null, failureMessage: null, nextRetryAt: null, updatedAt: at }).executeTakeFirst();
        // Set aside while the call was in flight (a webhook cancelled it): GoCardless holds a
        // payment we no longer want, so it is kept on the attempt and cancelled at GoCardless.
        if (!wroteRows(stored)) {
          await db
            .updateTable("payment_attempts")
            .set({ providerPaymentId: payment.id, providerCancel: "due", updatedAt: at })
            .where("id", "=", attempt.id)
            .where("status", "=", "canceled")
            .where("providerPaymentId", "is", null)
            .execute();
        }
      } catch (cause) {
        // GoCardless holds a payment we could not store (its id is another attempt's): recorded on the attempt.
        throw new GoCardlessApiError({ status: 0, code: "provider_payment_conflict", message: `GoCardless payment ${payment.id} is another attempt's; not stored.`, cause });
      }
      summary.done++;
      // Learnt from the API after a lost answer, the payment may have moved on already
      // (confirmed, failed…) while its events named no attempt: apply what its status says.
      const happened = paymentStatusEvent(payment);
      if (happened) await deps.applyEvent?.(happened);
    };
    const mandateId = await attemptMandateId(keyring, attempt);
    let failure: GoCardlessApiError;
    try {
      if (mandateId === undefined) {
        throw new GoCardlessApiError({ status: 0, code: "token_unreadable", message: "Token not decryptable (TOKEN_ENCRYPTION_KEYS); nothing sent." });
      }
      const owner = await mandateOwner(client, mandateId, attempt.customerId);
      if (typeof owner === "string") {
        const missing = owner === "customer_missing";
        throw new GoCardlessApiError({ status: 0, code: missing ? "provider_customer_missing" : owner, message: `${missing ? "Owner has no GoCardless customer" : "Mandate is another customer's"}; nothing sent.` });
      }
      await record(
        await client.createPayment({ amountMinor: attempt.amountMinor, currency: attempt.currency, chargeDate: chargeDate(attempt, now), mandateId, paymentAttemptId: attempt.id }),
      );
      continue;
    } catch (error) {
      if (!(error instanceof GoCardlessApiError)) throw error;
      failure = error;
    }
    // Refused (422: validation_failed, or invalid_state such as mandate_is_inactive): GoCardless read
    // the request and created no payment under its Idempotency-Key (one it holds answers 409, taken
    // above). Unlike an outage or a lost answer, nothing may be held: nextRetryAt stays null, so a
    // token that ends releases it at once with nothing to cancel (releaseUnsentQuery), and the next
    // run sends it again without a backoff.
    const refused = failure.status === 422;
    let sendAt = nextSubmissionAt(firstTriedAt, tried);
    if (sendAt === null) {
      // Giving up. An earlier POST whose answer was lost may have created the payment:
      // ask GoCardless first, so it is recorded here rather than collected unseen.
      try {
        const existing = await findAttemptPayment(client, attempt.id, mandateId, attempt.createdAt);
        if (existing) {
          await record(existing);
          continue;
        }
      } catch (lookup) {
        if (!(lookup instanceof GoCardlessApiError)) throw lookup;
        // GoCardless could not say whether it holds a payment: never given up unseen, asked again in a day.
        failure = lookup;
        sendAt = new Date(tried.getTime() + SUBMISSION_BACKOFF_MS.max);
      }
    }
    // Provider text is clamped to what the columns accept, so one odd answer cannot fail the run.
    const failureCode = storableText(failure.code, L.failureCodeLength, "unknown");
    const failureMessage = storableText(failure.message, L.failureMessageLength, "unknown");
    // Given up: failed like a refused collection, retried on the schedule.
    const retryAt = sendAt ?? nextRetryAt(attempt.failures + 1, now);
    await update.set({ failureCode, failureMessage, ...(!sendAt && { status: "failed" }), nextRetryAt: (sendAt && refused ? null : retryAt)?.toISOString() ?? null, updatedAt: at }).execute();
    summary.failed++;
  }
  return summary;
}

/** The renewal's due day while its period runs; undefined (as soon as possible) once money is owed. */
function chargeDate(attempt: { subscriptionStatus: string | null; currentPeriodEnd: string | null }, now: Date): string | undefined {
  const end = attempt.currentPeriodEnd;
  // Not renewing, or its period ended (a missing one parses as NaN, never later than now).
  return (attempt.subscriptionStatus === "active" || attempt.subscriptionStatus === "trialing") && Date.parse(end!) > +now ? end!.slice(0, 10) : undefined;
}
