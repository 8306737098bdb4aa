import { sql, type Kysely } from "kysely";
import type { DB } from "../../db/generated";
import type { NewBillingWebhookEvent, PaymentAttemptRow } from "../../db/billing-rows";
import { runBatch } from "../d1-batch";
import { releaseUnsentQuery } from "../direct-debit-tokens.repository";
import { collected, resubmitted, type SetAsideReason } from "../lifecycle/competing-collections";
import { moneyEvent, type MoneyEvent } from "../lifecycle/payment-money-events";
import { decide, paysOlderPeriod } from "../lifecycle/decide";
import { settle } from "../lifecycle/due-time-event";
import type { LifecycleEvent } from "../lifecycle/lifecycle-event";
import { ENDED_SUBSCRIPTION_STATUSES, OPEN_ATTEMPT_STATUSES } from "../../db/billing-enums";
import type { AttemptForEvent } from "../payment-attempts.repository";
import { nextRetryAt } from "../retry-schedule";
import { cancelAtProvider, findPaymentFacts, guardedLifecycleWrite, lifecycleStateOf, sameLifecycleState } from "../subscription-lifecycle.repository";
import { isEventProcessed, recordEventQuery } from "../webhook-events.repository";
import { isPaymentEvent, type BillingEvent, type PaymentEvent } from "./billing-event";
import { effectStatements, mayChange, mustChange, type Effect } from "./event-effect";
import { loadEventRows, type EventRows, type TokenForEvent } from "./event-rows";
import { normaliseBillingEvent } from "./normalise-billing-event";
// Used by the mandate path (mandateChanged) only.
import { defaultIfNoneQuery } from "../direct-debit-tokens.repository";
import { mandateEvent } from "../lifecycle/mandate-events";
import { sealToken, type TokenKeyring } from "../token-cipher";

/** What became of one event: applied (rows changed), ignored (nothing to change) or a duplicate delivery. */
export type EventOutcome = "applied" | "ignored" | "duplicate";

/** What applying events needs besides the event. */
export interface ApplyContext {
  db: Kysely<DB>;
  d1: D1Database;
  provider: string;
  /** The token fingerprint key, loaded only when a mandate event needs it. */
  fingerprintKey: () => Promise<CryptoKey>;
  /** The token cipher's keys, loaded only to re-point a token at the mandate replacing its own (payment events never need them). */
  keyring?: () => Promise<TokenKeyring>;
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
 * answers 500 and the provider redelivers later), as it does when the database
 * refuses a write on every try (a constraint on other rows: a rule's bug),
 * the error's cause saying why. Values the database would refuse never get
 * that far: the event is normalised first (normaliseBillingEvent), so one bad
 * event cannot fail its delivery forever; and a delivery applies its other
 * events before it throws (applyBillingDelivery).
 *
 * @example
 * ```ts
 * const fingerprintKey = () => loadFingerprintKey(env.TOKEN_FINGERPRINT_KEY)
 * const keyring = () => loadTokenKeyring(env.TOKEN_ENCRYPTION_KEYS)
 * const outcome = await applyBillingEvent({ db, d1: env.DB, provider: "gocardless", fingerprintKey, keyring, now: new Date() }, event)
 * ```
 */
export async function applyBillingEvent(context: ApplyContext, sent: BillingEvent): Promise<EventOutcome> {
  return applyNormalisedEvent(context, await normaliseBillingEvent(sent));
}

/**
 * {@link applyBillingEvent} for an event normaliseBillingEvent already made
 * storable, reading its rows afresh on every try (applyBillingDelivery falls
 * back to this when a bulk commit fails; `triedBefore` counts a failed try of
 * this event alone, so it is still tried {@link APPLY_TRIES} times in all).
 */
export async function applyNormalisedEvent(context: ApplyContext, event: BillingEvent, triedBefore = 0): Promise<EventOutcome> {
  const { db, provider } = context;
  if (await isEventProcessed(db, provider, event.eventId)) return "duplicate";
  warnIfUnusable(provider, event);
  for (let tries = triedBefore + 1; ; tries++) {
    const effects = await effectsOf(context, await loadEventRows(context, [event]), event);
    const record = eventRecord(context, event, effects);
    try {
      await runBatch(context.d1, [recordEventQuery(db, record), ...effectStatements(db, record, effects)]);
      return record.outcome;
    } catch (error) {
      if (await isEventProcessed(db, provider, event.eventId)) return "duplicate";
      // Not recorded by anyone: a row this event read has moved on (a guarded
      // write found nothing), so read again. Any other failure (the database refusing
      // a write: a constraint on other rows) repeats and is thrown below, as the cause.
      if (tries === APPLY_TRIES) {
        throw new Error(`event ${event.eventId} not applied in ${APPLY_TRIES} tries; nothing was recorded`, { cause: error });
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
 * const effects = await effectsOf(context, await loadEventRows(context, [event]), event)
 * ```
 */
export async function effectsOf(context: ApplyContext, rows: EventRows, event: BillingEvent): Promise<Effect[]> {
  if (isPaymentEvent(event)) {
    const attempt = rows.attempt(event);
    if (attempt) return paymentEffects(context, attempt, event);
    // Unknown payment: recorded (ignored) and said, never silently. If it is one of ours
    // whose POST answer was lost, the engine records it on its attempt from GoCardless's
    // API with its status then (docs/gocardless.md, "Payments we did not hear about").
    console.warn(`unmatched payment ${event.providerPaymentId} (${event.eventId})`);
    return [];
  }
  switch (event.kind) {
    case "mandate_changed": {
      const token = rows.token(event.mandateId);
      return token ? mandateChanged(context, rows, token, event) : [];
    }
    case "mandate_transferred":
    case "other":
    case "unusable":
      return [];
  }
}

/**
 * A payment event's writes: the attempt's new status (only from the statuses
 * the event can follow, so a settled outcome is not settled again and a late
 * event never undoes a later state), and — for an event that moves money —
 * the subscription's next state as the lifecycle module decides it, after
 * the time events due by now, written once, guarded by the state read.
 */
async function paymentEffects({ db, now }: ApplyContext, attempt: AttemptForEvent, sent: PaymentEvent): Promise<Effect[]> {
  const change = attemptChange(attempt, sent, now);
  if (change === null || (change.from && !(change.from as readonly string[]).includes(attempt.status))) return [];

  const at = now.toISOString();
  const subscription = attempt.subscription;
  let subscriptionWrite: Effect | undefined;
  let refundDue = false;
  let periodStart: string | undefined;
  if (subscription && change.lifecycleEvent) {
    const asRead = lifecycleStateOf(subscription);
    // An open attempt was in flight until this very event.
    const facts = (OPEN_ATTEMPT_STATUSES as readonly string[]).includes(attempt.status) ? { paymentInFlight: true, retriesExhausted: false, nextRetryAt: null } : await findPaymentFacts(db, subscription.id);
    let decision = settle(asRead, subscription.plan, facts, change.impliesCollection ? { type: "payment_succeeded", periodStart: attempt.periodStart } : change.lifecycleEvent, now);
    if (change.impliesCollection) {
      // The collection the reversal implies, then the reversal of the period that collection paid
      // (a first payment's starts at the collection; an older period's moves none): the subscription
      // ends as if both had come in order, and the attempts name the period owed again.
      const paidPeriod = paysOlderPeriod(asRead, attempt.periodStart) ? attempt.periodStart : decision.state.currentPeriodStart;
      const reversed = decide(decision.state, subscription.plan, { type: "payment_reversed", periodStart: paidPeriod, owesOther: attempt.owesOther }, now);
      if (!sameLifecycleState(decision.state, reversed.state)) periodStart = reversed.state.currentPeriodEnd;
      decision = { state: reversed.state, effects: [] };
    }
    refundDue = change.changes.status === "succeeded" && decision.effects.some((effect) => effect.type === "refund_due");
    // Money that paid a period names the period it paid (a first payment's starts at its confirmation);
    // kept by an ended subscription (a served period, ¹⁰), the one decide kept it for: a later collection of it is owed back.
    if (!refundDue && change.changes.status === "succeeded") periodStart = subscriptionEnded(attempt) ? [attempt.periodStart!, subscription.currentPeriodEnd].sort()[0] : decision.state.currentPeriodStart;
    if (!sameLifecycleState(asRead, decision.state)) subscriptionWrite = mustChange(guardedLifecycleWrite(db, subscription.id, asRead, decision.state, now));
  }
  // The subscription's attempts for this attempt's period (where the subscription was read).
  const periodAttempts = subscription && db.updateTable("payment_attempts").where("subscriptionId", "=", subscription.id).where("periodStart", "=", attempt.periodStart);
  // Our other open attempt for this period yields first, so this one may be open again (one open
  // attempt per subscription). Never this attempt itself: supersede is only set while this one is not open.
  const otherWrite =
    change.supersede && periodAttempts
      ? mustChange(
          periodAttempts
            // One GoCardless already holds must be cancelled there too (cancelSetAsidePayments); a claimed
            // one keeps its nextRetryAt, the end of its lease, before which GoCardless is not asked for it.
            .set({ status: "canceled", failureCode: change.supersede, providerCancel: cancelAtProvider, updatedAt: at })
            .where("status", "in", OPEN_ATTEMPT_STATUSES),
        )
      : undefined;
  // The period's attempts move with it (a first payment's period starts only at its
  // confirmation), so a later collection for the same period is still seen as one.
  // Money for an older period moves no period (decide: paysOlderPeriod): its attempts stay.
  // Money that pays an earlier period than its own (a renewal in flight when the period before it was
  // taken back: owed again, it comes first) moves only this attempt there, as that period's next attempt
  // (the unique key); its own period, still owed, keeps its other attempts. The engine's key names the
  // slot (period, number) it was made for (create-due-attempt.ts): it takes its new slot's name, so the
  // slot it leaves is free for the engine's next attempt of that period, and no two keys ever name one
  // slot (the slot is unique), however often this repeats (a user's key stays: a replay must find it).
  const number = sql<number>`(select ifnull(max(attemptNumber), 0) + 1 from payment_attempts where subscriptionId = ${subscription?.id} and periodStart = ${periodStart})`;
  const periodWrite =
    periodStart && periodStart !== attempt.periodStart && !paysOlderPeriod(subscription!, attempt.periodStart)
      ? mayChange(
          periodStart < attempt.periodStart!
            ? db
                .updateTable("payment_attempts")
                .set({
                  periodStart,
                  attemptNumber: number,
                  // SET reads the row as it was: the old slot on the left, the new one on the right.
                  idempotencyKey: sql`iif(idempotencyKey = 'engine:' || subscriptionId || ':' || periodStart || ':' || attemptNumber, 'engine:' || subscriptionId || ':' || ${periodStart} || ':' || ${number}, idempotencyKey)`,
                })
                .where("id", "=", attempt.id)
            : periodAttempts!.set({ periodStart }),
        )
      : undefined;
  // The period's second collection keeps the money for it: no longer owed back (one of them).
  const keepWrite = change.paidByAnother
    ? mayChange(db.updateTable("payment_attempts").set({ refundDue: 0, updatedAt: at }).where("id", "=", attempt.paidBy))
    : undefined;
  // No collection of the period stands any more: the ones reversed while this one paid it
  // (left without a retry then) are due again too, so none of them reads as an exhausted schedule.
  const reopenWrite =
    change.lifecycleEvent?.type === "payment_reversed" && periodAttempts
      ? mayChange(
          periodAttempts
            .set({ nextRetryAt: at, updatedAt: at })
            .where("status", "=", "failed")
            .where("reversal", "=", "reversed")
            .where("nextRetryAt", "is", null),
        )
      : undefined;
  const attemptWrite = mustChange(
    db
      .updateTable("payment_attempts")
      // Collected, it can no longer be cancelled at GoCardless: a cancel still due is dropped (a refused one is kept).
      .set({ ...change.changes, ...(refundDue && { refundDue: 1 }), ...(change.changes.status === "succeeded" && { providerCancel: sql`nullif(providerCancel, 'due')` }), updatedAt: at })
      .where("id", "=", attempt.id)
      .where("status", "=", attempt.status)
      // And the payment id as read: a failed attempt takes a success only while it has none.
      .where("providerPaymentId", "is", attempt.providerPaymentId)
      .where("reversal", "is", attempt.reversal)
      .where("moneyEventAt", "is", attempt.moneyEventAt),
  );
  return [otherWrite, periodWrite, keepWrite, reopenWrite, attemptWrite, subscriptionWrite].filter((effect) => effect !== undefined);
}

/** The money events (moneyEvent's rules) among the payment events. */
const MONEY_EVENTS: Partial<Record<PaymentEvent["kind"], MoneyEvent>> = {
  payment_succeeded: "collected",
  payment_failed: "failed",
  payment_resubmission_requested: "resubmitted",
  payment_reversed: "reversed",
  payment_reversal_settled: "settled",
  payment_reinstated: "reinstated",
  payment_canceled: "cancelled",
};

/**
 * Which attempt statuses an event can follow, what it writes to the attempt,
 * and what it means to the subscription (null: the attempt only); null for an
 * event that changes nothing. Money events follow moneyEvent (any arrival order).
 */
function attemptChange(
  attempt: AttemptForEvent,
  event: PaymentEvent,
  now: Date,
): {
  /** The statuses it can follow (a money event: any, moneyEvent decided from this one). */
  from?: readonly PaymentAttemptStatus[];
  changes: AttemptChanges;
  /** Absent: the event moves the attempt only. */
  lifecycleEvent?: LifecycleEvent | null;
  /** The lifecycle applies `payment_succeeded` before `lifecycleEvent` (a reversal of a collection not recorded yet). */
  impliesCollection?: boolean;
  supersede?: SetAsideReason;
  paidByAnother?: boolean;
} | null {
  const providerPaymentId = event.providerPaymentId;
  const money = MONEY_EVENTS[event.kind];
  if (money) {
    // When it happened, as the provider says; never after it arrived (a future stamp would
    // overtake what really happens later), nor without a usable time: then when it arrived.
    const received = now.toISOString();
    const at = event.occurredAt && event.occurredAt < received ? event.occurredAt : received;
    const { effect, reversal, moneyEventAt } = moneyEvent(attempt, money, at);
    const failure = "failureCode" in event ? { failureCode: event.failureCode, failureMessage: event.failureMessage } : {};
    const facts = { reversal, providerPaymentId, moneyEventAt };
    // The provider collects it again itself (a failed payment, or a collected one: the resubmission takes its
    // collection back): in flight once more, our own retry for its period yielding; or set aside (competing-collections:
    // its period paid, another period's payment in flight, its subscription ended, or set aside already),
    // and GoCardless is asked to cancel it (cancelSetAsidePayments).
    const again = effect === "reopen" || effect === "reverse_reopen" ? resubmitted({ ...attempt, setAside: attempt.status === "canceled", ended: subscriptionEnded(attempt) }) : undefined;
    const setAside = again && !again.reopen && { failureCode: again.setAside, providerCancel: "due" as const };
    const supersede = again?.reopen && again.supersedeOther && { supersede: "superseded_by_resubmission" as const };
    switch (effect) {
      case null:
        return null;
      case "record":
        // A payment we set aside that failed at the provider collects nothing: nothing left to
        // cancel there, and it no longer holds back the user's deletion (a resubmission sets it due again).
        return { changes: { ...facts, ...(money === "failed" && { providerCancel: null }) } };
      case "collect": {
        // Money that moved is always recorded: on an attempt we set aside or failed too.
        const { duplicate, supersedeOther } = collected(attempt);
        return {
          changes: { ...facts, status: "succeeded", failureCode: null, failureMessage: null, nextRetryAt: null },
          lifecycleEvent: { type: duplicate ? "payment_duplicated" : money === "reinstated" ? "reversal_canceled" : "payment_succeeded", periodStart: attempt.periodStart, served: attempt.served, owesOther: attempt.owesOther },
          ...(supersedeOther && { supersede: "superseded_by_collection" as const }),
        };
      }
      case "fail": {
        const retryAt = nextRetryAt(attempt.failures + 1, now);
        return {
          changes: { ...facts, status: "failed", ...failure, nextRetryAt: retryAt?.toISOString() ?? null },
          lifecycleEvent: { type: "payment_failed", retriesLeft: retryAt !== null },
        };
      }
      case "reopen":
        return {
          changes: { ...facts, status: again!.reopen ? "processing" : "canceled", failureCode: null, failureMessage: null, nextRetryAt: null, ...setAside },
          ...supersede,
        };
      case "reverse":
      case "reverse_reopen":
      case "reverse_cancel": {
        // Why the money went back is kept on the attempt; nothing is owed back
        // any more, and collecting it again is due at once (not an exhausted schedule),
        // unless a second collection of the period pays it instead, or the provider
        // collects it again itself (reverse_reopen: in flight), or it stays cancelled (reverse_cancel).
        // A reversal of a collection not recorded yet (it overtook its confirmed) implies that
        // collection; our other open attempt for the period stays: the period is owed again.
        const paidByAnother = collected(attempt).duplicate;
        const canceled = setAside || effect === "reverse_cancel";
        return {
          // A failed attempt keeps the cause of its failure (a settlement says less).
          changes: {
            ...facts,
            status: canceled ? "canceled" : again ? "processing" : "failed",
            ...(attempt.status !== "failed" && failure),
            ...setAside,
            nextRetryAt: paidByAnother || again || canceled ? null : now.toISOString(),
            refundDue: 0,
          },
          lifecycleEvent: paidByAnother ? null : { type: "payment_reversed", periodStart: attempt.periodStart, owesOther: attempt.owesOther },
          impliesCollection: attempt.status !== "succeeded",
          paidByAnother,
          ...supersede,
        };
      }
    }
  }
  switch (event.kind) {
    case "payment_submitted":
      return { from: ["pending"], changes: { status: "processing", providerPaymentId } };
    default:
      return null;
  }
}

type PaymentAttemptStatus = AttemptForEvent["status"];

type AttemptChanges = Partial<Pick<PaymentAttemptRow, "status" | "providerPaymentId" | "failureCode" | "failureMessage" | "nextRetryAt" | "refundDue" | "reversal" | "providerCancel" | "moneyEventAt">>;

/** Whether the attempt's subscription ended (`canceled`, or `incomplete_expired`: never paid by its deadline): it collects nothing more. */
const subscriptionEnded = (attempt: AttemptForEvent) => (ENDED_SUBSCRIPTION_STATUSES as readonly unknown[]).includes(attempt.subscription?.status);

async function mandateChanged(
  { db, now, keyring }: ApplyContext,
  rows: EventRows,
  token: TokenForEvent,
  event: Extract<BillingEvent, { kind: "mandate_changed" }>,
): Promise<Effect[]> {
  const at = now.toISOString();
  const tokenWrite = db.updateTable("direct_debit_tokens").where("id", "=", token.id).where("status", "=", token.status).where("mandateEventAt", "is", token.mandateEventAt);
  const newMandateId = event.newMandateId;
  // The new mandate stored already (a live token): this token ends below as its mandate did.
  const holder = newMandateId && rows.token(newMandateId);
  if (newMandateId && !holder) {
    // Replaced (e.g. the creditor moved to a new scheme identifier; docs/gocardless.md, "A mandate
    // replaced"): the token now holds the new mandate, in the batch that records the event, keeping
    // its status, default, time and payments, whatever the arrival order; the engine charges the new id.
    const sealed = await sealToken(await keyring!(), newMandateId, token.id);
    return [mustChange(tokenWrite.set({ tokenCiphertext: sealed.ciphertext, tokenKeyId: sealed.keyId, tokenFingerprint: rows.fingerprint(newMandateId)!, updatedAt: at }))];
  }
  // When it happened, as the provider says; never after it arrived (a future stamp would overtake what
  // really happens later), nor without a usable time: then when it arrived. The newest decides (mandateEvent).
  const change = mandateEvent(token, event.status, event.occurredAt && event.occurredAt < at ? event.occurredAt : at);
  if (!change) return [];
  const ended = change.status !== "active";
  return [
    // Also when the status stays: the time is recorded, so an older event arriving later is overtaken.
    mustChange(tokenWrite.set({ ...change, revokedAt: change.status === "revoked" ? at : null, isDefault: ended ? 0 : undefined, updatedAt: at })),
    mayChange(
      ended
        ? // Its payments never tried are released at once (no failure): nothing waits out the give-up on a mandate
          // that cannot be charged. One a send may have reached is GoCardless's to report (it cancels what it holds
          // with the mandate: a failure, in any arrival order); holding none, the engine releases it unsent.
          releaseUnsentQuery(db, token.userId, token.id, at).where("nextRetryAt", "is", null)
        : // Active: the first active mandate becomes the default, so the user can pay at once.
          defaultIfNoneQuery(db, token.userId, token.id),
    ),
    // The user's own token holding the new mandate takes the default, so the user's payments go on.
    ...(holder && holder.userId === token.userId ? [mayChange(defaultIfNoneQuery(db, token.userId, holder.id))] : []),
  ];
}
