import type { PaymentAttemptRow } from "../../db/billing-rows";

/** An attempt for the period after the current one, as a resume finds it. */
export type RenewalOnResume = Pick<PaymentAttemptRow, "status" | "failureCode" | "refundDue" | "providerCancel" | "moneyEventAt" | "failureMessage">;

/**
 * Which of the next period's attempts a resume of a subscription set to cancel at its period's
 * end changes (docs/billing-lifecycle.md ¹¹), so that a period is never collected twice and money
 * collected for it is never left owed back once it runs:
 * - one collected anyway (`succeeded`, owed back): that money pays the period, no longer owed back;
 * - the renewal the cancel set aside (`subscription_ended`) that GoCardless may still collect —
 *   its cancel not sent yet (`providerCancel` `due`) or refused (`cancellation_failed`: it goes
 *   ahead; not a 404, whose `failureMessage` starts "cancel:": never held there) — with no outcome
 *   of it recorded after the cancel (`canceledAt`), and no other attempt open (`otherOpen`): open again, the period's collection, whose outcome the engine waits for.
 * One whose send lost its answer (no payment id) reopens as the same attempt (`pending`): its next send has
 * the same Idempotency-Key, so GoCardless answers with the payment it holds, never a second one.
 * None (cancelled at GoCardless, never held there, or its outcome in): the engine collects the period anew.
 *
 * @example
 * ```ts
 * resumedRenewal([{ status: "canceled", failureCode: "subscription_ended", refundDue: 0, providerCancel: "due", moneyEventAt: null }], false, canceledAt) // that attempt
 * ```
 */
export function resumedRenewal<A extends RenewalOnResume>(attempts: A[], otherOpen: boolean, canceledAt: string): A | undefined {
  // Only a set-aside attempt has the reason subscription_ended (canceled). ISO-8601 text compares in time
  // order; no money event recorded is older than any cancel. Only a 404 on the cancel writes a failureMessage
  // starting "cancel:" (cancelSetAsidePayments). (Both kinds at once never happen: the
  // engine opens no new attempt beside a set-aside one GoCardless may still collect.)
  return attempts.find((a) =>
    a.status === "succeeded" ? a.refundDue : !otherOpen && a.failureCode === "subscription_ended" && a.providerCancel && a.providerCancel !== "cancelled" && !a.failureMessage?.startsWith("cancel:") && (a.moneyEventAt ?? "") < canceledAt,
  );
}
