import type { Kysely } from "kysely";
import type { DB } from "../../db/generated";
import type { NewBillingWebhookEvent } from "../../db/billing-rows";
import type { Compilable } from "../d1-batch";
import { recordAgainIfUnchangedQuery } from "../webhook-events.repository";

/** One write of an event's effect. */
export interface Effect {
  write: Compilable;
  /** The write was computed from rows read earlier: changing no row means those rows moved. */
  mustChange: boolean;
}

/**
 * Marks a write guarded by the state it was computed from (`where status = <read>`):
 * it must change a row, or the whole batch fails and the event is tried again.
 */
export function mustChange(write: Compilable): Effect {
  return { write, mustChange: true };
}

/** Marks a write that may rightly change nothing (its condition is part of the effect). */
export function mayChange(write: Compilable): Effect {
  return { write, mustChange: false };
}

/**
 * The statements of an event's effects for its batch: each guarded write is
 * followed by the check that fails the batch when it changed nothing
 * (changes() only sees the previous statement, so the check must follow its write directly).
 */
export function effectStatements(db: Kysely<DB>, record: NewBillingWebhookEvent, effects: readonly Effect[]): Compilable[] {
  return effects.flatMap((effect) => (effect.mustChange ? [effect.write, recordAgainIfUnchangedQuery(db, record)] : [effect.write]));
}
