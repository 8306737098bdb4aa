import { runBatch } from "../d1-batch";
import { findTokensByFingerprints } from "../direct-debit-tokens.repository";
import { findAttemptForEvent, findAttemptsForEvents } from "../payment-attempts.repository";
import { fingerprintToken } from "../token-fingerprint";
import { findProcessedEventIds, recordEventQuery } from "../webhook-events.repository";
import {
  applyNormalisedEvent,
  effectsOf,
  eventRecord,
  warnIfUnusable,
  type ApplyContext,
  type EventOutcome,
} from "./apply-billing-event";
import { isPaymentEvent, type BillingEvent, type PaymentEvent } from "./billing-event";
import { effectStatements, type Effect } from "./event-effect";
import { readEventRows, type EventRows, type TokenForEvent } from "./event-rows";
import { normaliseBillingEvent } from "./normalise-billing-event";

/**
 * How many events commit together in one D1 batch. A GoCardless delivery
 * holds up to 250 events: 250 / 25 = 10 batches plus 3 bulk reads, inside
 * even the free plan's 50 queries per invocation. A batch statement count
 * stays ≤ 25 × 5 (record + two guarded writes with their checks).
 */
export const EVENTS_PER_BATCH = 25;

/** What became of one event of a delivery. */
export interface DeliveryResult {
  eventId: string;
  outcome: EventOutcome;
}

/**
 * Applies a verified delivery's events in order, each exactly once, with a
 * bounded number of D1 queries whatever the delivery's size:
 * - one query finds which events were processed already (duplicates);
 * - one query loads every payment attempt the events name, one every token;
 * - events commit {@link EVENTS_PER_BATCH} at a time in one atomic batch,
 *   with the same guarded writes as applyBillingEvent.
 * An event about a row an earlier event of the same batch changes starts a
 * new batch, and re-reads that row. When a batch fails (a row moved under a
 * concurrent delivery, or another delivery recorded one of its events), none
 * of it is written, and its events are applied one at a time
 * (applyNormalisedEvent), each re-reading its rows, as before.
 *
 * @example
 * ```ts
 * const results = await applyBillingDelivery(context, adapter.parseEvents(rawBody))
 * ```
 */
export async function applyBillingDelivery(context: ApplyContext, sent: readonly BillingEvent[]): Promise<DeliveryResult[]> {
  const { db, provider } = context;
  const events = await Promise.all(sent.map(normaliseBillingEvent));
  const seen = await findProcessedEventIds(db, provider, events.map((event) => event.eventId));
  const rows = await loadDeliveryRows(context, events);
  const outcomes: EventOutcome[] = [];
  let batch: { index: number; event: BillingEvent; record: ReturnType<typeof eventRecord>; effects: Effect[]; keys: string[] }[] = [];

  const flush = async () => {
    const pending = batch;
    batch = [];
    if (pending.length === 0) return;
    try {
      await runBatch(context.d1, pending.flatMap((item) => [recordEventQuery(db, item.record), ...effectStatements(db, item.record, item.effects)]));
      for (const item of pending) outcomes[item.index] = item.record.outcome;
    } catch {
      // Nothing of the batch was written: one by one, each reading its rows afresh.
      const triedBefore = pending.length === 1 ? 1 : 0;
      for (const item of pending) outcomes[item.index] = await applyNormalisedEvent(context, item.event, triedBefore);
    }
    for (const item of pending) rows.changed(item.keys);
  };

  for (const [index, event] of events.entries()) {
    if (seen.has(event.eventId)) {
      outcomes[index] = "duplicate";
      continue;
    }
    seen.add(event.eventId);
    warnIfUnusable(provider, event);
    let keys = await rows.keysOf(event);
    if (batch.length === EVENTS_PER_BATCH || batch.some((item) => item.keys.some((key) => keys.includes(key)))) {
      await flush();
      keys = await rows.keysOf(event);
    }
    const effects = await effectsOf(context, rows, event);
    batch.push({ index, event, record: eventRecord(context, event, effects), effects, keys });
  }
  await flush();
  return events.map((event, index) => ({ eventId: event.eventId, outcome: outcomes[index]! }));
}

/**
 * The rows a delivery's events are about, loaded in bulk; a row an applied
 * event may have changed is read again, one at a time, when asked for next.
 */
interface DeliveryRows extends EventRows {
  /** Which rows the event's writes could touch (an attempt, its subscription, a user's tokens). */
  keysOf(event: BillingEvent): Promise<string[]>;
  /** These rows may have changed: read them again when asked. */
  changed(keys: readonly string[]): void;
}

async function loadDeliveryRows(context: ApplyContext, events: readonly BillingEvent[]): Promise<DeliveryRows> {
  const { db, provider } = context;
  const single = readEventRows(db, provider, context.fingerprintKey);
  const payments = events.filter(isPaymentEvent);
  const attempts = await findAttemptsForEvents(db, provider, payments);
  const byPaymentId = new Map(attempts.flatMap((a) => (a.providerPaymentId === null ? [] : [[a.providerPaymentId, a] as const])));
  const byAttemptId = new Map(attempts.flatMap((a) => (a.providerPaymentId === null ? [[a.id, a] as const] : [])));

  const mandateIds = [...new Set(events.flatMap((event) => (event.kind === "mandate_changed" ? [event.mandateId] : [])))];
  const fingerprints = new Map<string, string>();
  if (mandateIds.length > 0) {
    const key = await context.fingerprintKey();
    for (const mandateId of mandateIds) fingerprints.set(mandateId, await fingerprintToken(key, provider, mandateId));
  }
  const tokens = new Map(
    (await findTokensByFingerprints(db, provider, [...fingerprints.values()])).map((token) => [token.tokenFingerprint, token as TokenForEvent] as const),
  );
  const stale = new Set<string>();

  // Every row a payment event may touch, by every name it may be known by here:
  // the provider's payment id, our attempt id (from the metadata), the attempt and its subscription.
  const paymentKeys = (event: PaymentEvent) => {
    const attempt = byPaymentId.get(event.providerPaymentId) ?? (event.paymentAttemptId === undefined ? undefined : byAttemptId.get(event.paymentAttemptId));
    return {
      attempt,
      keys: [
        `payment:${event.providerPaymentId}`,
        ...(event.paymentAttemptId === undefined ? [] : [`attempt:${event.paymentAttemptId}`]),
        ...(attempt ? [`attempt:${attempt.id}`, `payment:${attempt.providerPaymentId}`, `subscription:${attempt.subscriptionId}`] : []),
      ],
    };
  };

  const rows: DeliveryRows = {
    async attempt(event) {
      const { attempt, keys } = paymentKeys(event);
      // An applied event may have changed it, or given an attempt this payment id: read it.
      if (keys.some((key) => stale.has(key))) return findAttemptForEvent(db, provider, event);
      // Otherwise the bulk load is what the database holds: not there is unknown.
      return attempt;
    },
    async token(mandateId) {
      const fingerprint = fingerprints.get(mandateId);
      const cached = fingerprint === undefined ? undefined : tokens.get(fingerprint);
      if (cached === undefined || stale.has(`user:${cached.userId}`)) return single.token(mandateId);
      return cached;
    },
    async keysOf(event) {
      if (isPaymentEvent(event)) return paymentKeys(event).keys;
      if (event.kind !== "mandate_changed") return [];
      const token = await rows.token(event.mandateId);
      return token ? [`user:${token.userId}`] : [];
    },
    changed(keys) {
      for (const key of keys) stale.add(key);
    },
  };
  return rows;
}
