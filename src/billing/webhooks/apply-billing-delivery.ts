import { runBatch } from "../d1-batch";
import { findProcessedEventIds, recordEventQuery } from "../webhook-events.repository";
import {
  applyNormalisedEvent,
  effectsOf,
  eventRecord,
  warnIfUnusable,
  type ApplyContext,
  type EventOutcome,
} from "./apply-billing-event";
import type { BillingEvent } from "./billing-event";
import { effectStatements, type Effect } from "./event-effect";
import { loadEventRows } from "./event-rows";
import { normaliseBillingEvent } from "./normalise-billing-event";

/**
 * How many events commit together in one D1 batch. A GoCardless delivery
 * holds up to 250 events about different payments: 10 rounds of one bulk read
 * and one batch, plus the duplicate check, is 21 queries, inside even the
 * free plan's 50 per invocation. A batch stays ≤ 25 × 8 statements (record,
 * three guarded writes with their checks: our superseded attempt, the attempt,
 * the subscription; and the period's start).
 */
export const EVENTS_PER_BATCH = 25;

/** What became of one event of a delivery. */
export interface DeliveryResult {
  eventId: string;
  outcome: EventOutcome;
}

/**
 * Applies a verified delivery's events, each exactly once, with a bounded
 * number of D1 queries whatever the delivery's size:
 * - one query finds which events were processed already (duplicates);
 * - then in rounds: one query loads every payment attempt the remaining
 *   events name, one every token they name; up to {@link EVENTS_PER_BATCH}
 *   events commit in one atomic batch, with the same guarded writes as
 *   applyBillingEvent.
 * An event about a row that an earlier event of the round writes waits for
 * the next round (which reads that row again), and so does every later event
 * about the same rows: events about one payment or one user's tokens apply in
 * the order they came; events about different ones do not wait for each other.
 * When a batch fails, none of it is written: events another delivery recorded
 * meanwhile become duplicates and the rest go round again; when none was
 * (a row moved under a concurrent write, or the database refuses one event's
 * write), its events are applied one at a time (applyNormalisedEvent), each
 * re-reading its rows. One that still cannot be applied is left unrecorded,
 * and so are the later events about its rows (they keep their order); every
 * other event is applied, then this throws that event's error: the route
 * answers 500 and the provider redelivers what is unrecorded.
 *
 * @example
 * ```ts
 * const results = await applyBillingDelivery(context, adapter.parseEvents(rawBody))
 * ```
 */
export async function applyBillingDelivery(context: ApplyContext, sent: readonly BillingEvent[]): Promise<DeliveryResult[]> {
  const { db, provider } = context;
  const events = await Promise.all(sent.map(normaliseBillingEvent));
  const processed = await findProcessedEventIds(db, provider, events.map((event) => event.eventId));
  const outcomes: EventOutcome[] = [];
  let remaining: number[] = [];
  for (const [index, event] of events.entries()) {
    // A repeated id within the delivery is a duplicate of its first copy.
    if (processed.has(event.eventId)) outcomes[index] = "duplicate";
    else {
      processed.add(event.eventId);
      warnIfUnusable(provider, event);
      remaining.push(index);
    }
  }

  // The rows of events that could not be applied, and the first such failure (thrown once the rest is done).
  const failed = new Set<string>();
  let failure: unknown;
  while (remaining.length > 0) {
    const rows = await loadEventRows(context, remaining.map((index) => events[index]!));
    const batch: { index: number; event: BillingEvent; keys: string[]; record: ReturnType<typeof eventRecord>; effects: Effect[] }[] = [];
    const written = new Set<string>();
    const waiting: number[] = [];
    for (const index of remaining) {
      const event = events[index]!;
      const keys = rows.keysOf(event);
      // After an event about the same rows that could not be applied: left for the redelivery, in order.
      if (keys.some((key) => failed.has(key))) continue;
      if (batch.length === EVENTS_PER_BATCH || keys.some((key) => written.has(key))) {
        // Later events about these rows wait too, so they keep their order.
        waiting.push(index);
        for (const key of keys) written.add(key);
        continue;
      }
      const effects = await effectsOf(context, rows, event);
      batch.push({ index, event, keys, record: eventRecord(context, event, effects), effects });
      for (const key of keys) written.add(key);
    }
    try {
      await runBatch(context.d1, batch.flatMap((item) => [recordEventQuery(db, item.record), ...effectStatements(db, item.record, item.effects)]));
      for (const item of batch) outcomes[item.index] = item.record.outcome;
    } catch {
      // Nothing of the batch was written. A concurrent delivery of the same events
      // (GoCardless redelivering while this one runs) recorded some first: those are
      // duplicates, and the rest go round again (one query, however many).
      const recorded = await findProcessedEventIds(db, provider, batch.map((item) => item.event.eventId));
      const again = batch.filter((item) => !recorded.has(item.event.eventId)).map((item) => item.index);
      // Only when some became duplicates: going round with the same batch would never end.
      if (again.length < batch.length) {
        for (const item of batch) if (recorded.has(item.event.eventId)) outcomes[item.index] = "duplicate";
        remaining = [...again, ...waiting].sort((a, b) => a - b);
        continue;
      }
      // Otherwise a row moved under a guarded write, or the database refuses one event's write
      // (a constraint no normalising can foresee): one by one, each reading its rows afresh, so
      // one event that cannot be applied does not keep the others of the delivery from applying.
      const triedBefore = batch.length === 1 ? 1 : 0;
      for (const item of batch) {
        try {
          outcomes[item.index] = await applyNormalisedEvent(context, item.event, triedBefore);
        } catch (error) {
          failure ??= error;
          for (const key of item.keys) failed.add(key);
        }
      }
    }
    remaining = waiting;
  }
  // Unrecorded, so never lost: the delivery answers 500 and the provider redelivers it, its other events then duplicates.
  if (failure) throw failure;
  return events.map((event, index) => ({ eventId: event.eventId, outcome: outcomes[index]! }));
}
