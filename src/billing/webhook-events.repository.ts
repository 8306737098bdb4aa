import type { Kysely } from "kysely";
import type { DB } from "../db/generated";
import type { NewBillingWebhookEvent } from "../db/schema/billing";
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
