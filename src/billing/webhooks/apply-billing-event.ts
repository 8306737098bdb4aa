import type { Kysely } from "kysely";
import type { DB } from "../../db/generated";
import { runBatch, type Compilable } from "../d1-batch";
import { findTokenByFingerprint } from "../direct-debit-tokens.repository";
import { paidPeriod } from "../paid-period";
import { findAttemptForEvent, OPEN_ATTEMPT_STATUSES, type AttemptForEvent } from "../payment-attempts.repository";
import { nextRetryAt } from "../retry-schedule";
import { canTransition } from "../subscription-transitions";
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
    case "payment_failed": {
      const attempt = await findAttemptForEvent(context.db, context.provider, event);
      // Unknown attempt, or its outcome is already settled: acknowledge, change nothing.
      if (!attempt || !(OPEN_ATTEMPT_STATUSES as readonly string[]).includes(attempt.status)) return [];
      return event.kind === "payment_succeeded"
        ? paymentSucceeded(context, attempt, event.providerPaymentId)
        : paymentFailed(context, attempt, event);
    }
    case "mandate_changed":
      return mandateChanged(context, event);
    case "other":
    case "unusable":
      return [];
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
