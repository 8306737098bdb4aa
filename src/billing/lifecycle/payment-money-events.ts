import type { PaymentAttemptStatus, PaymentReversal } from "../../db/billing-enums";

/**
 * What the provider reports about one payment's money: collected
 * (`confirmed`, `paid_out`), failed (`failed`: a late failure once
 * collected), resubmitted (`resubmission_requested`: collected again by the
 * provider itself), taken back (`charged_back`), a taking back settled
 * (`chargeback_settled`), given back (`chargeback_cancelled`), or cancelled
 * before it was collected (`cancelled`: final, a failed collection).
 */
export type MoneyEvent = "collected" | "failed" | "resubmitted" | "reversed" | "settled" | "reinstated" | "cancelled";

/**
 * What a money event does to the attempt holding the payment:
 * - `collect`: → succeeded (it pays its period, or is owed back);
 * - `fail`: an open attempt → failed, on the retry schedule (also a payment the provider cancelled:
 *   to the schedule a collection that did not happen); never one already failed or set aside;
 * - `reopen`: a failed or set-aside attempt's payment in flight again (the provider collects it
 *   once more; resubmitted decides whether the attempt reopens);
 * - `reverse`: → failed, the money went back; on an attempt not yet succeeded the
 *   collection it took back is applied first (a reversal implies its collection), so the
 *   subscription ends as if both had come in order;
 * - `reverse_reopen`: a collection taken back (its late failure not arrived yet) and the
 *   payment in flight again (the provider collects it once more);
 * - `reverse_cancel`: `reverse`, the attempt we set aside staying canceled (its overtaken
 *   collection was taken back);
 * - `record`: only the facts change (when it happened, the reversal fact);
 * - null: nothing (an event older than the newest one recorded: overtaken).
 */
export type MoneyEffect = "collect" | "fail" | "reopen" | "reverse" | "reverse_reopen" | "reverse_cancel" | "record" | null;

/**
 * How a money event that happened at `at` (the provider's `created_at`, ISO
 * 8601) applies to an attempt, whatever order the provider's events arrive in
 * (docs/gocardless.md, "Out of order"). The attempt keeps when the newest money
 * event it recorded happened (`moneyEventAt`): an older event was overtaken by
 * what came after it and changes nothing, except that an overtaken collection
 * was taken back by what came after it. So a `confirmed` that arrives after
 * its own late `failed` (or a chargeback, or the resubmission) is no money,
 * while the resubmission's `confirmed`, which happened after the failure, is.
 * `reversal` keeps the reversal fact (cleared by a new collection), so a
 * reversal applies once. Returns the effect, and the facts to record.
 *
 * @example
 * ```ts
 * moneyEvent({ status: "failed", reversal: null, moneyEventAt: "2027-01-12T09:00:00.000Z" }, "collected", "2027-01-11T09:00:00.000Z") // { effect: null, reversal: null, moneyEventAt: "2027-01-12T09:00:00.000Z" }
 * ```
 */
export function moneyEvent(
  attempt: { status: PaymentAttemptStatus; reversal: PaymentReversal | null; moneyEventAt: string | null },
  event: MoneyEvent,
  at: string,
): { effect: MoneyEffect; reversal: PaymentReversal | null; moneyEventAt: string | null } {
  const { status, reversal, moneyEventAt } = attempt;
  const succeeded = status === "succeeded";
  const open = status === "pending" || status === "processing";
  // The newest time stays (an overtaken collection's reversal is applied, the newer time kept).
  const to = (effect: MoneyEffect, next = reversal, newest: string | null = (moneyEventAt ?? "") > at ? moneyEventAt : at) => ({ effect, reversal: next, moneyEventAt: newest });
  if (at < (moneyEventAt ?? "")) {
    // Overtaken. Only a collection still says something: a failure, chargeback or resubmission
    // came after it, so it was taken back; unless its reversal is recorded already, the
    // collection and its reversal are applied, so the subscription ends as if both came in order.
    return event !== "collected" || succeeded || reversal ? to(null) : to(open ? "reverse_reopen" : status === "canceled" ? "reverse_cancel" : "reverse", "reversed");
  }
  switch (event) {
    case "collected":
      // A new collection: a reversal of an earlier one no longer says anything about it; but
      // one reversed by a settlement before any time was recorded is the collection it took back.
      return succeeded ? to("record") : status === "failed" && reversal === "reversed" && !moneyEventAt ? to(null) : to("collect", null);
    case "reinstated":
      return to(succeeded ? "record" : "collect", "reinstated");
    case "failed":
    case "cancelled":
      // A late failure takes the collection back. Only an open attempt fails (the period is still
      // owed: on the schedule, docs/billing-lifecycle.md ⁸); one already failed or set aside keeps its
      // cause and retry, its time recorded: a failure counts once, a set-aside is ours. Cancelled is
      // final: GoCardless cancels only a payment waiting to be submitted, so a failed one was
      // resubmitted first (that resubmission, arriving later, is overtaken), and a collected one
      // also failed late before.
      return succeeded ? to("reverse", "reversed") : to(open ? "fail" : "record");
    case "resubmitted":
      // The collection, if one was recorded, was taken back; whether it was is kept.
      return succeeded ? to("reverse_reopen", "reversed") : to(status === "failed" || status === "canceled" ? "reopen" : "record");
    case "settled":
      // A settled chargeback whose chargeback was not recorded is one. Its time is not recorded:
      // the chargeback and its cancellation happened before it, and apply when they arrive.
      return reversal ? to(null) : to("reverse", "reversed", moneyEventAt);
    case "reversed":
      return succeeded || reversal !== "reversed" ? to("reverse", "reversed") : to("record");
  }
}
