import type { Kysely } from "kysely";
import type { DB } from "../../db/generated";
import type { NewBillingWebhookEvent } from "../../db/schema/billing";
import { runBatch } from "../d1-batch";
import { paidPeriod } from "../paid-period";
import { OPEN_ATTEMPT_STATUSES, type AttemptForEvent } from "../payment-attempts.repository";
import { nextRetryAt } from "../retry-schedule";
import { canTransition } from "../subscription-transitions";
import { isEventProcessed, recordEventQuery } from "../webhook-events.repository";
import { isPaymentEvent, type BillingEvent, type PaymentEvent } from "./billing-event";
import { effectStatements, mayChange, mustChange, type Effect } from "./event-effect";
import { readEventRows, type EventRows, type TokenForEvent } from "./event-rows";
import { normaliseBillingEvent } from "./normalise-billing-event";
import { providerPaymentEffects } from "./provider-payment-effects";

/** What became of one event: applied (rows changed), ignored (nothing to change) or a duplicate delivery. */
export type EventOutcome = "applied" | "ignored" | "duplicate";

/** What applying events needs besides the event. */
export interface ApplyContext {
  db: Kysely<DB>;
  d1: D1Database;
  provider: string;
  /** The token fingerprint key, loaded only when a mandate event needs it. */
  fingerprintKey: () => Promise<CryptoKey>;
  now: Date;
}

/**
 * How often an event is read and written before giving up while other writes
 * keep overtaking it (each try re-reads the rows it is about).
 */
export const APPLY_TRIES = 3;

/**
 * Applies one verified provider event exactly once: reads what it is about,
 * then writes the processed-event record and every effect in one D1 batch.
 * A redelivery finds the record and changes nothing; a concurrent delivery
 * loses on the record's unique index, which rolls its whole batch back.
 *
 * The effects are computed from rows read before the batch, and D1 cannot
 * hold a lock between the read and the batch: each effect's update is guarded
 * by the state it was computed from, and when another event has changed that
 * row meanwhile the guard matches nothing, the batch fails and nothing is
 * recorded (see {@link mustChange}). The event is then read and computed
 * again, up to {@link APPLY_TRIES} times; after that this throws (the route
 * answers 500 and the provider redelivers later). Values the database would
 * refuse never get that far: the event is normalised first
 * (normaliseBillingEvent), so one bad event cannot fail its delivery forever.
 *
 * @example
 * ```ts
 * const fingerprintKey = () => loadFingerprintKey(env.TOKEN_FINGERPRINT_KEY)
 * const outcome = await applyBillingEvent({ db, d1: env.DB, provider: "gocardless", fingerprintKey, now: new Date() }, event)
 * ```
 */
export async function applyBillingEvent(context: ApplyContext, sent: BillingEvent): Promise<EventOutcome> {
  return applyNormalisedEvent(context, await normaliseBillingEvent(sent));
}

/**
 * {@link applyBillingEvent} for an event normaliseBillingEvent already made
 * storable, reading each row it needs on its own (applyBillingDelivery falls
 * back to this when a bulk commit fails; `triedBefore` counts a failed try of
 * this event alone, so it is still tried {@link APPLY_TRIES} times in all).
 */
export async function applyNormalisedEvent(context: ApplyContext, event: BillingEvent, triedBefore = 0): Promise<EventOutcome> {
  const { db, provider } = context;
  if (await isEventProcessed(db, provider, event.eventId)) return "duplicate";
  warnIfUnusable(provider, event);
  const rows = readEventRows(db, provider, context.fingerprintKey);

  for (let tries = triedBefore + 1; ; tries++) {
    const effects = await effectsOf(context, rows, event);
    const record = eventRecord(context, event, effects);
    try {
      await runBatch(context.d1, [recordEventQuery(db, record), ...effectStatements(db, record, effects)]);
      return record.outcome;
    } catch (error) {
      if (await isEventProcessed(db, provider, event.eventId)) return "duplicate";
      // Not recorded by anyone: a row this event read has moved on (a guarded
      // write found nothing), so read again. Any other failure repeats and is thrown below.
      if (tries === APPLY_TRIES) {
        throw new Error(`event ${event.eventId} was overtaken by other writes ${APPLY_TRIES} times; nothing was recorded`, { cause: error });
      }
    }
  }
}

/** Logs an event recorded as ignored because its ids cannot be valid. */
export function warnIfUnusable(provider: string, event: BillingEvent): void {
  if (event.kind === "unusable") console.warn(`${provider} event ${event.eventId} (${event.eventType}) ignored: ${event.reason}`);
}

/** The processed-event row recording `event` with these effects. */
export function eventRecord({ provider, now }: ApplyContext, event: BillingEvent, effects: readonly Effect[]) {
  return {
    id: crypto.randomUUID(),
    provider,
    eventId: event.eventId,
    eventType: event.eventType,
    outcome: effects.length > 0 ? "applied" : "ignored",
    processedAt: now.toISOString(),
  } as const satisfies NewBillingWebhookEvent;
}

/**
 * The writes `event` makes, computed from the rows it is about (read through `rows`).
 *
 * @example
 * ```ts
 * const effects = await effectsOf(context, readEventRows(db, provider, fingerprintKey), event)
 * ```
 */
export async function effectsOf(context: ApplyContext, rows: EventRows, event: BillingEvent): Promise<Effect[]> {
  if (isPaymentEvent(event)) {
    const attempt = await rows.attempt(event);
    // Unknown attempt: acknowledge, change nothing.
    return attempt ? paymentEffects(context, attempt, event) : [];
  }
  switch (event.kind) {
    case "mandate_changed": {
      const token = await rows.token(event.mandateId);
      return token ? mandateChanged(context, token, event) : [];
    }
    case "mandate_transferred":
    case "other":
    case "unusable":
      return [];
  }
}

function paymentEffects(context: ApplyContext, attempt: AttemptForEvent, event: PaymentEvent): Effect[] {
  const open = (OPEN_ATTEMPT_STATUSES as readonly string[]).includes(attempt.status);
  switch (event.kind) {
    // An outcome that is already settled stays settled (a redelivery, or events out of order).
    case "payment_succeeded":
      return open ? paymentSucceeded(context, attempt, event.providerPaymentId) : [];
    case "payment_failed":
      if (open) return paymentFailed(context, attempt, event);
      // Failed after it succeeded: a late failure, the money was taken back.
      return attempt.status === "succeeded" ? providerPaymentEffects(context, attempt, { ...event, kind: "payment_charged_back" }) : [];
    default:
      return providerPaymentEffects(context, attempt, event);
  }
}

function paymentSucceeded({ db, now }: ApplyContext, attempt: AttemptForEvent, providerPaymentId: string): Effect[] {
  const at = now.toISOString();
  const effects = [
    mustChange(
      db
        .updateTable("payment_attempts")
        .set({ status: "succeeded", providerPaymentId, failureCode: null, failureMessage: null, nextRetryAt: null, updatedAt: at })
        .where("id", "=", attempt.id)
        .where("status", "in", OPEN_ATTEMPT_STATUSES),
    ),
  ];
  const { subscriptionId, subscriptionStatus, currentPeriodEnd, interval, intervalCount } = attempt;
  if (subscriptionId && subscriptionStatus && currentPeriodEnd && interval && intervalCount && canTransition(subscriptionStatus, "active")) {
    const period = paidPeriod({ status: subscriptionStatus, currentPeriodEnd }, { interval, intervalCount }, now);
    effects.push(
      mustChange(
        db
          .updateTable("user_subscriptions")
          .set({
            status: "active",
            currentPeriodStart: period.start.toISOString(),
            currentPeriodEnd: period.end.toISOString(),
            updatedAt: at,
          })
          .where("id", "=", subscriptionId)
          .where("status", "=", subscriptionStatus)
          // The new period is computed from the end that was read.
          .where("currentPeriodEnd", "=", currentPeriodEnd),
      ),
    );
  }
  return effects;
}

function paymentFailed(
  { db, now }: ApplyContext,
  attempt: AttemptForEvent,
  event: Extract<BillingEvent, { kind: "payment_failed" }>,
): Effect[] {
  const at = now.toISOString();
  const retryAt = nextRetryAt(attempt.attemptNumber, now);
  const effects = [
    mustChange(
      db
        .updateTable("payment_attempts")
        .set({
          status: "failed",
          providerPaymentId: event.providerPaymentId,
          failureCode: event.failureCode,
          failureMessage: event.failureMessage,
          nextRetryAt: retryAt?.toISOString() ?? null,
          updatedAt: at,
        })
        .where("id", "=", attempt.id)
        .where("status", "in", OPEN_ATTEMPT_STATUSES),
    ),
  ];
  const { subscriptionId, subscriptionStatus } = attempt;
  if (subscriptionId && subscriptionStatus) {
    // Retries left: past_due. Schedule exhausted while already past_due: unpaid.
    const target = retryAt === null && subscriptionStatus === "past_due" ? "unpaid" : "past_due";
    if (target !== subscriptionStatus && canTransition(subscriptionStatus, target)) {
      effects.push(
        mustChange(
          db
            .updateTable("user_subscriptions")
            .set({ status: target, updatedAt: at })
            .where("id", "=", subscriptionId)
            .where("status", "=", subscriptionStatus),
        ),
      );
    }
  }
  return effects;
}

function mandateChanged(
  { db, now }: ApplyContext,
  token: TokenForEvent,
  event: Extract<BillingEvent, { kind: "mandate_changed" }>,
): Effect[] {
  const at = now.toISOString();
  const update = db.updateTable("direct_debit_tokens").where("id", "=", token.id).where("status", "=", token.status);

  if (event.status === "active") {
    // A pending mandate activates; a reinstated one comes back from expired. A
    // token the user (or the provider's `cancelled`) revoked stays revoked:
    // the two cannot be told apart, and never charging a revoked mandate is the safe side.
    if (token.status !== (event.reinstated ? "expired" : "pending")) return [];
    return [
      mustChange(update.set({ status: "active", updatedAt: at })),
      // The first active mandate becomes the default, so the user can pay at once;
      // when the user already has a default this rightly changes nothing.
      mayChange(
        db
          .updateTable("direct_debit_tokens")
          .set({ isDefault: 1 })
          .where("id", "=", token.id)
          .where("status", "=", "active")
          .where(({ not, exists, selectFrom }) =>
            not(
              exists(
                selectFrom("direct_debit_tokens as other")
                  .select("other.id")
                  .where("other.userId", "=", token.userId)
                  .where("other.isDefault", "=", 1)
                  .where("other.status", "=", "active"),
              ),
            ),
          ),
      ),
    ];
  }
  if (token.status === "revoked" || token.status === event.status) return [];
  // TODO(issue 11, item 4): re-point the token at links.new_mandate instead (needs the token
  // cipher here); until then the old id is never charged and the user adds the new mandate.
  if (event.newMandateId !== undefined) console.warn(`token ${token.id}: its mandate was replaced by a new one; marked expired`);
  if (event.status === "revoked") return [mustChange(update.set({ status: "revoked", revokedAt: at, isDefault: 0, updatedAt: at }))];
  return [mustChange(update.set({ status: event.status, isDefault: 0, updatedAt: at }))];
}
