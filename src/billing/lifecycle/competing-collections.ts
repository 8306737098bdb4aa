/**
 * What the rest of a subscription's attempts look like to a payment the
 * provider collects, or collects again (docs/billing-lifecycle.md, "Two
 * collections for one period").
 */
export interface CollectionFacts {
  /** Another attempt of the subscription that already collected this payment's period or null. */
  paidBy: string | null;
  /** The subscription's other open attempt: for this payment's period, for another one, or none. */
  otherOpen: "same_period" | "other_period" | null;
}

/**
 * Why an attempt was set aside (`canceled` by us, not by the provider), kept
 * as its `failureCode` (docs/billing-lifecycle.md ⁹); a collection on it is still recorded.
 */
export type SetAsideReason = "superseded_by_resubmission" | "superseded_by_collection" | "period_already_paid" | "other_payment_in_flight" | "subscription_ended";

/** What a collection does: whether it pays the period or is owed back, and whether our other open attempt for the period yields. */
export interface CollectedDecision {
  duplicate: boolean;
  /** Set our open attempt for the same period aside (`superseded_by_collection`), so it is not collected too. */
  supersedeOther: boolean;
}

/**
 * Money arrived (`payment_succeeded`, or a reversal cancelled): it pays its
 * period unless another attempt paid that period already, in which case it
 * is recorded and owed back (`payment_duplicated`). Our own attempt still
 * open for the same period yields. And when this attempt's money is taken
 * back (reversed) while `duplicate` holds, the other collection pays the
 * period instead: it is no longer owed back, and nothing reopens.
 *
 * @example
 * ```ts
 * collected({ paidBy: "attempt-1", otherOpen: null }) // { duplicate: true, supersedeOther: false }
 * ```
 */
export function collected(facts: CollectionFacts): CollectedDecision {
  return { duplicate: facts.paidBy !== null, supersedeOther: facts.paidBy === null && facts.otherOpen === "same_period" };
}

/** What the provider's resubmission of a failed payment does to it and to our other open attempt. */
export type ResubmittedDecision = { reopen: true; supersedeOther: boolean } | { reopen: false; setAside?: SetAsideReason };

/**
 * The provider collects a failed payment again (GoCardless's
 * `resubmission_requested`; a collected one too, its collection reversed
 * first): it is the same payment, so it is in flight again and our own retry
 * for that period yields to it (one open attempt per subscription). When its
 * period is paid already, or another period's payment is in flight (e.g. the
 * next period's renewal, which pays the period owed again when collected:
 * docs/billing-lifecycle.md ⁷; the resubmission, just queued at the provider,
 * is the one a cancel can still stop), or its subscription ended, it cannot be
 * reopened: it is set aside, and a collection on it is still recorded (owed
 * back when its period was paid). One we set aside already (`canceled`)
 * stays so, with its reason. Either way GoCardless is asked to cancel it
 * (again: it is back in flight).
 *
 * @example
 * ```ts
 * resubmitted({ paidBy: null, otherOpen: "same_period" }) // { reopen: true, supersedeOther: true }
 * ```
 */
export function resubmitted(facts: CollectionFacts & { setAside?: boolean; ended?: boolean }): ResubmittedDecision {
  if (facts.setAside) return { reopen: false };
  if (facts.paidBy !== null) return { reopen: false, setAside: "period_already_paid" };
  if (facts.otherOpen === "other_period") return { reopen: false, setAside: "other_payment_in_flight" };
  if (facts.ended) return { reopen: false, setAside: "subscription_ended" };
  return { reopen: true, supersedeOther: facts.otherOpen === "same_period" };
}

