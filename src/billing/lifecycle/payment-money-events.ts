import type { PaymentAttemptStatus, PaymentReversal } from "../../db/billing-enums";

/**
 * What the provider reports about one payment's money: collected
 * (`confirmed`, `paid_out`), failed (`failed`: a late failure once
 * collected), taken back (`charged_back`, `late_failure_settled`,
 * `chargeback_settled`), or given back (`chargeback_cancelled`).
 */
export type MoneyEvent = "collected" | "failed" | "reversed" | "reinstated";

/**
 * What a money event does to the attempt holding the payment:
 * - `collect`: → succeeded (it pays its period, or is owed back);
 * - `fail`: an open attempt → failed, on the retry schedule;
 * - `reverse`: → failed, the money went back; on an attempt not yet succeeded the
 *   collection it took back is applied first (a reversal implies its collection), so the
 *   subscription ends as if both had come in order;
 * - `record`: only the reversal fact changes (the status already says whether money stands);
 * - null: nothing.
 */
export type MoneyEffect = "collect" | "fail" | "reverse" | "record" | null;

/**
 * How a money event applies to an attempt, whatever order the provider's
 * events arrive in (docs/gocardless.md, "Out of order"). A reversal and its
 * cancellation are kept as a fact (`reversal`), because each event only says
 * that something happened, not what came before it:
 * - a reversal reported before its collection (`charged_back`, or a settled
 *   reversal, overtaking `confirmed`) is applied with the collection it implies,
 *   and sticks: the late collection is no money;
 * - a cancelled chargeback sticks: money collected and given back stands, and
 *   the chargeback it cancelled, arriving late, changes nothing;
 * - a settled reversal (deducted from a payout: final) reverses a collection
 *   whose reversal event never came or comes later.
 * A `failed` on an open attempt is a failure, not a reversal: it cannot be
 * told from a failure whose resubmission's confirmation follows, until
 * GoCardless settles the late failure.
 *
 * @example
 * ```ts
 * moneyEvent({ status: "failed", reversal: "reversed" }, "collected") // { effect: null, reversal: "reversed" }
 * ```
 */
export function moneyEvent(attempt: { status: PaymentAttemptStatus; reversal: PaymentReversal | null }, event: MoneyEvent): { effect: MoneyEffect; reversal: PaymentReversal | null } {
  const { status, reversal } = attempt;
  const open = status === "pending" || status === "processing";
  const effect = (effect: MoneyEffect, next = reversal) => ({ effect, reversal: next });
  switch (event) {
    case "collected":
      return effect(status === "succeeded" || reversal === "reversed" ? null : "collect");
    case "reinstated":
      if (status !== "succeeded") return effect("collect", "reinstated");
      return reversal === "reinstated" ? effect(null) : effect("record", "reinstated");
    case "failed":
      if (status === "succeeded") return reversal === "reinstated" ? effect(null) : effect("reverse", "reversed");
      return effect(open ? "fail" : null);
    case "reversed":
      if (reversal !== null) return effect(null);
      return effect("reverse", "reversed");
  }
}
