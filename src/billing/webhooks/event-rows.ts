import { findTokensByFingerprints } from "../direct-debit-tokens.repository";
import { findAttemptsForEvents, type AttemptForEvent } from "../payment-attempts.repository";
import { fingerprintToken } from "../token-fingerprint";
import type { ApplyContext } from "./apply-billing-event";
import { isPaymentEvent, type BillingEvent, type PaymentEvent } from "./billing-event";

/** The stored token a mandate event is about. */
export interface TokenForEvent {
  id: string;
  userId: string;
  status: "pending" | "active" | "revoked" | "failed" | "expired";
  /** When the newest mandate event recorded on it happened (mandateEvent). */
  mandateEventAt: string | null;
}

/** The rows some events are about, as loaded, and which rows each event may write. */
export interface EventRows {
  attempt(event: PaymentEvent): AttemptForEvent | undefined;
  token(mandateId: string): TokenForEvent | undefined;
  /** The keyed fingerprint of a mandate id some event names (its own, or the one replacing it). */
  fingerprint(mandateId: string): string | undefined;
  /** Every name of a row the event's writes could touch (a payment, an attempt, its subscription, a user's tokens). */
  keysOf(event: BillingEvent): string[];
}

/**
 * Loads every row `events` are about in bulk: one query for the payment
 * attempts they name, one for the tokens (by mandate fingerprint), none for
 * a kind no event has. A whole delivery (applyBillingDelivery) and a single
 * event (applyNormalisedEvent) read their rows the same way.
 *
 * @example
 * ```ts
 * const rows = await loadEventRows(context, events)
 * const attempt = rows.attempt(paymentEvent)
 * ```
 */
export async function loadEventRows(context: ApplyContext, events: readonly BillingEvent[]): Promise<EventRows> {
  const { db, provider } = context;
  const attempts = await findAttemptsForEvents(db, provider, events.filter(isPaymentEvent));
  const byPaymentId = new Map(attempts.flatMap((a) => (a.providerPaymentId === null ? [] : [[a.providerPaymentId, a] as const])));
  const byAttemptId = new Map(attempts.flatMap((a) => (a.providerPaymentId === null ? [[a.id, a] as const] : [])));

  // A replacement's new mandate too: a token may hold it already (mandateChanged).
  const mandateIds = [...new Set(events.flatMap((event) => (event.kind === "mandate_changed" ? [event.mandateId, event.newMandateId ?? event.mandateId] : [])))];
  const fingerprints = new Map<string, string>();
  if (mandateIds.length > 0) {
    const key = await context.fingerprintKey();
    for (const mandateId of mandateIds) fingerprints.set(mandateId, await fingerprintToken(key, provider, mandateId));
  }
  const found = await findTokensByFingerprints(db, provider, [...fingerprints.values()]);
  const tokens = new Map(found.map((token) => [token.tokenFingerprint, token as TokenForEvent] as const));

  // What the database held when loaded; nothing of this round has been written yet,
  // and an event about a row written earlier in the round waits (keysOf), so this is current.
  const attemptOf = (event: PaymentEvent) =>
    byPaymentId.get(event.providerPaymentId) ?? (event.paymentAttemptId === undefined ? undefined : byAttemptId.get(event.paymentAttemptId));
  const tokenOf = (mandateId: string) => {
    const fingerprint = fingerprints.get(mandateId);
    return fingerprint === undefined ? undefined : tokens.get(fingerprint);
  };

  return {
    attempt: attemptOf,
    token: tokenOf,
    fingerprint: (mandateId) => fingerprints.get(mandateId),
    keysOf(event) {
      if (isPaymentEvent(event)) {
        const attempt = attemptOf(event);
        return [
          `payment:${event.providerPaymentId}`,
          ...(event.paymentAttemptId === undefined ? [] : [`attempt:${event.paymentAttemptId}`]),
          ...(attempt ? [`attempt:${attempt.id}`] : []),
          ...(attempt?.providerPaymentId ? [`payment:${attempt.providerPaymentId}`] : []),
          ...(attempt?.subscription ? [`subscription:${attempt.subscription.id}`] : []),
        ];
      }
      if (event.kind !== "mandate_changed") return [];
      // A replacement writes the token it re-points to the new mandate (or the one holding it): a later
      // event about the new mandate waits for it, and then finds that token.
      return [event.mandateId, event.newMandateId ?? event.mandateId].flatMap((mandateId) => {
        const token = tokenOf(mandateId);
        return [`mandate:${mandateId}`, ...(token ? [`user:${token.userId}`] : [])];
      });
    },
  };
}
