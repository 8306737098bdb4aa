import type { DirectDebitTokenStatus } from "../../db/billing-enums";

/** What a provider's mandate event says the mandate now is: the status its token takes. */
export type MandateSays = Exclude<DirectDebitTokenStatus, "pending">;

/**
 * How a mandate event that happened at `at` (the provider's `created_at`, ISO
 * 8601, never later than its arrival) applies to the stored token, whatever
 * order the provider's events arrive in (docs/gocardless.md, "Mandates out of
 * order"). Each event says what the mandate is from then on, so the newest one
 * decides: the token takes its status and keeps its time (`mandateEventAt`,
 * also when the status stays, so an older event arriving later is still seen
 * as older), and an event older than the newest recorded was overtaken and
 * changes nothing. An `expired` that arrives after the `reinstated` that
 * followed it no longer ends the token for good; a `reinstated` or `active`
 * that overtook the end it follows is not undone by that end.
 *
 * A revoked token stays revoked: its owner revoked it, or the provider
 * cancelled the mandate; the two cannot be told apart, and never charging a
 * revoked mandate is the safe side (its owner stores it again, which takes the
 * status the provider then reports). So a cancel is final in any arrival order:
 * one that arrives after a newer `reinstated` revokes the token too, as it
 * would have had it arrived first (as a payment's `cancelled` is final, moneyEvent).
 *
 * A replacement (GoCardless `mandates.replaced`: the mandate cancelled, the payer's authority carried
 * over to a new mandate of the same customer) is no status event: the token is re-pointed at the new
 * mandate, keeping its status and its time, whatever its own time (the old id can never be charged
 * again, and nothing more happens to it); the new mandate's events then apply by this rule, also one
 * stamped before the replacement (its `active` makes a pending token active). A revoked token is never
 * re-pointed. With the new mandate stored already as another live token, the replacement ends the
 * token as `expired` does (applyBillingEvent's mandateChanged).
 *
 * @returns the token's status and the event's time, or null: nothing changes.
 * @example
 * ```ts
 * mandateEvent({ status: "active", mandateEventAt: "2027-01-12T09:00:00.000Z" }, "expired", "2027-01-12T08:59:00.000Z") // null
 * ```
 */
export function mandateEvent(
  token: { status: DirectDebitTokenStatus; mandateEventAt: string | null },
  says: MandateSays,
  at: string,
): { status: MandateSays; mandateEventAt: string } | null {
  // Equal times apply in arrival order, as payment events do (moneyEvent). A revoked token keeps its cancel's time.
  return token.status === "revoked" || (at < (token.mandateEventAt ?? "") && says !== "revoked") ? null : { status: says, mandateEventAt: at };
}
