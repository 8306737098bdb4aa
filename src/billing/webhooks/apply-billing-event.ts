import type { Kysely } from "kysely";
import type { DB } from "../../db/generated";
import { runBatch, type Compilable } from "../d1-batch";
import { findTokenByFingerprint } from "../direct-debit-tokens.repository";
import { settle } from "../lifecycle/due-time-event";
import { findAttemptForEvent, OPEN_ATTEMPT_STATUSES, type AttemptForEvent } from "../payment-attempts.repository";
import { nextRetryAt } from "../retry-schedule";
import { findPaymentFacts, guardedLifecycleWrite, lifecycleStateOf, sameLifecycleState } from "../subscription-lifecycle.repository";
import { fingerprintToken } from "../token-fingerprint";
import { isEventProcessed, recordAgainIfUnchangedQuery, recordEventQuery } from "../webhook-events.repository";
import type { BillingEvent } from "./billing-event";
import { normaliseBillingEvent } from "./normalise-billing-event";

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
  const { db, provider } = context;
  const event = await normaliseBillingEvent(sent);
  if (await isEventProcessed(db, provider, event.eventId)) return "duplicate";
  if (event.kind === "unusable") console.warn(`${provider} event ${event.eventId} (${event.eventType}) ignored: ${event.reason}`);

  for (let tries = 1; ; tries++) {
    const effects = await effectsOf(context, event);
    try {
      return await commit(context, event, effects);
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

/** One write of an event's effect. */
interface Effect {
  write: Compilable;
  /** The write was computed from rows read earlier: changing no row means those rows moved. */
  mustChange: boolean;
}

/**
 * Marks a write guarded by the state it was computed from (`where status = <read>`):
 * it must change a row, or the whole batch fails and the event is tried again.
 */
function mustChange(write: Compilable): Effect {
  return { write, mustChange: true };
}

/** Marks a write that may rightly change nothing (its condition is part of the effect). */
function mayChange(write: Compilable): Effect {
  return { write, mustChange: false };
}

async function commit({ db, d1, provider, now }: ApplyContext, event: BillingEvent, effects: Effect[]): Promise<EventOutcome> {
  const outcome = effects.length > 0 ? "applied" : "ignored";
  const record = {
    id: crypto.randomUUID(),
    provider,
    eventId: event.eventId,
    eventType: event.eventType,
    outcome,
    processedAt: now.toISOString(),
  } as const;
  // The check must follow its write directly: changes() only sees the previous statement.
  const writes = effects.flatMap((effect) =>
    effect.mustChange ? [effect.write, recordAgainIfUnchangedQuery(db, record)] : [effect.write],
  );
  await runBatch(d1, [recordEventQuery(db, record), ...writes]);
  return outcome;
}

async function effectsOf(context: ApplyContext, event: BillingEvent): Promise<Effect[]> {
  switch (event.kind) {
    case "payment_succeeded":
    case "payment_failed":
    case "payment_canceled":
    case "payment_reversed":
    case "payment_reinstated": {
      const attempt = await findAttemptForEvent(context.db, context.provider, event);
      // Unknown attempt: acknowledge, change nothing.
      return attempt ? paymentEffects(context, attempt, event) : [];
    }
    case "mandate_changed":
      return mandateChanged(context, event);
    case "other":
    case "unusable":
      return [];
  }
}

type PaymentEvent = Extract<BillingEvent, { kind: `payment_${string}` }>;

/**
 * A payment event's writes: the attempt's new status (only from the statuses
 * the event can follow: a settled outcome is not settled again), and the
 * subscription's next state as the lifecycle module decides it, after the
 * time events due by now — written once, guarded by the state read.
 */
async function paymentEffects({ db, now }: ApplyContext, attempt: AttemptForEvent, event: PaymentEvent): Promise<Effect[]> {
  const at = now.toISOString();
  const { from, changes, lifecycleEvent } = attemptChange(attempt, event, now);
  if (!(from as readonly string[]).includes(attempt.status)) return [];

  const subscription = attempt.subscription;
  let subscriptionWrite: Effect | undefined;
  let refundDue = false;
  if (subscription) {
    const asRead = lifecycleStateOf(subscription);
    // An open attempt was in flight until this very event.
    const facts = from === OPEN_ATTEMPT_STATUSES ? { paymentInFlight: true, retriesExhausted: false } : await findPaymentFacts(db, subscription.id);
    const decision = settle(asRead, subscription.plan, facts, lifecycleEvent, now);
    refundDue = decision.effects.some((effect) => effect.type === "refund_due");
    if (!sameLifecycleState(asRead, decision.state)) subscriptionWrite = mustChange(guardedLifecycleWrite(db, subscription.id, asRead, decision.state, now));
  }
  const attemptWrite = mustChange(
    db
      .updateTable("payment_attempts")
      .set({ ...changes, ...(refundDue && { refundDue: 1 }), updatedAt: at })
      .where("id", "=", attempt.id)
      .where("status", "in", from),
  );
  return subscriptionWrite ? [attemptWrite, subscriptionWrite] : [attemptWrite];
}

/** Which attempt statuses an event can follow, what it writes to the attempt, and what it means to the subscription. */
function attemptChange(attempt: AttemptForEvent, event: PaymentEvent, now: Date) {
  const providerPaymentId = event.providerPaymentId;
  switch (event.kind) {
    case "payment_succeeded":
      return {
        from: OPEN_ATTEMPT_STATUSES,
        changes: { status: "succeeded", providerPaymentId, failureCode: null, failureMessage: null, nextRetryAt: null },
        lifecycleEvent: { type: "payment_succeeded" },
      } as const;
    case "payment_failed": {
      const retryAt = nextRetryAt(attempt.attemptNumber, now);
      return {
        from: OPEN_ATTEMPT_STATUSES,
        changes: {
          status: "failed",
          providerPaymentId,
          failureCode: event.failureCode,
          failureMessage: event.failureMessage,
          nextRetryAt: retryAt?.toISOString() ?? null,
        },
        lifecycleEvent: { type: "payment_failed", retriesLeft: retryAt !== null },
      } as const;
    }
    case "payment_canceled":
      return { from: OPEN_ATTEMPT_STATUSES, changes: { status: "canceled", providerPaymentId }, lifecycleEvent: { type: "payment_canceled" } } as const;
    case "payment_reversed":
      // Why the money went back is kept on the attempt; nothing is owed back
      // any more, and collecting it again is due at once (not an exhausted schedule).
      return {
        from: ["succeeded"],
        changes: { status: "failed", failureCode: event.reason, failureMessage: event.message, nextRetryAt: now.toISOString(), refundDue: 0 },
        lifecycleEvent: { type: "payment_reversed" },
      } as const;
    case "payment_reinstated":
      return { from: ["failed"], changes: { status: "succeeded" }, lifecycleEvent: { type: "reversal_canceled" } } as const;
  }
}

async function mandateChanged(
  { db, provider, fingerprintKey, now }: ApplyContext,
  event: Extract<BillingEvent, { kind: "mandate_changed" }>,
): Promise<Effect[]> {
  const fingerprint = await fingerprintToken(await fingerprintKey(), provider, event.mandateId);
  const token = await findTokenByFingerprint(db, provider, fingerprint);
  if (!token) return [];
  const at = now.toISOString();
  const update = db.updateTable("direct_debit_tokens").where("id", "=", token.id).where("status", "=", token.status);

  if (event.status === "active") {
    // Only a pending mandate activates: a token the user revoked stays revoked.
    if (token.status !== "pending") return [];
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
  if (event.status === "revoked") return [mustChange(update.set({ status: "revoked", revokedAt: at, isDefault: 0, updatedAt: at }))];
  return [mustChange(update.set({ status: event.status, isDefault: 0, updatedAt: at }))];
}
