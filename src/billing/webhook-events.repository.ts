import { sql, type Kysely } from "kysely";
import type { DB } from "../db/generated";
import type { NewBillingWebhookEvent } from "../db/billing-rows";
import type { Compilable } from "./d1-batch";

/**
 * Whether this provider's event was processed already.
 *
 * @example
 * ```ts
 * if (await isEventProcessed(db, "gocardless", "EV123")) return "duplicate"
 * ```
 */
export async function isEventProcessed(db: Kysely<DB>, provider: string, eventId: string): Promise<boolean> {
  const row = await db
    .selectFrom("billing_webhook_events")
    .select("id")
    .where("provider", "=", provider)
    .where("eventId", "=", eventId)
    .executeTakeFirst();
  return row !== undefined;
}

/**
 * The insert that marks an event processed, to run first in the batch with
 * its effects. A plain insert on purpose: if a concurrent delivery recorded
 * the event first, the unique (provider, eventId) index fails this statement
 * and D1 rolls the whole batch back, effects included.
 *
 * @example
 * ```ts
 * await runBatch(env.DB, [recordEventQuery(db, record), ...effects])
 * ```
 */
export function recordEventQuery(db: Kysely<DB>, record: NewBillingWebhookEvent): Compilable {
  return db.insertInto("billing_webhook_events").values(record);
}

/**
 * The statement to put right after a write that must change a row: it inserts
 * the event's record again, but only when that write changed nothing
 * (SQLite's `changes()` counts the rows of the previous statement on the
 * batch's connection). The copy collides with the record inserted first in the
 * batch, so D1 rolls the whole batch back and the event stays unrecorded.
 *
 * The same compare-and-swap in SQL as the migration runner's ledger guard
 * (src/db/migration/apply-batch.ts): a guarded write that finds no row means
 * the state it was computed from has moved.
 *
 * @example
 * ```ts
 * await runBatch(env.DB, [recordEventQuery(db, record), update, recordAgainIfUnchangedQuery(db, record)])
 * ```
 */
export function recordAgainIfUnchangedQuery(db: Kysely<DB>, record: NewBillingWebhookEvent): Compilable {
  const columns = Object.keys(record) as (keyof NewBillingWebhookEvent & string)[];
  return db
    .insertInto("billing_webhook_events")
    .columns(columns)
    .expression(
      db
        .selectNoFrom((eb) => columns.map((column) => eb.val(record[column]).as(column)))
        .where((eb) => eb(eb.fn<number>("changes"), "=", 0)),
    );
}

/**
 * Which of these event ids this provider's ledger holds already, in one
 * query whatever their number: the ids travel as one JSON array parameter
 * (`json_each`), so a 250-event delivery stays under D1's 100 bound parameters.
 *
 * @example
 * ```ts
 * const processed = await findProcessedEventIds(db, "gocardless", ["EV1", "EV2"]) // Set { "EV1" }
 * ```
 */
export async function findProcessedEventIds(db: Kysely<DB>, provider: string, eventIds: readonly string[]): Promise<Set<string>> {
  if (eventIds.length === 0) return new Set();
  const rows = await db
    .selectFrom("billing_webhook_events")
    .select("eventId")
    .where("provider", "=", provider)
    .where(sql<boolean>`"eventId" in (select value from json_each(${JSON.stringify(eventIds)}))`)
    .execute();
  return new Set(rows.map((row) => row.eventId));
}
