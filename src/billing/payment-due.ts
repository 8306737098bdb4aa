import type { UserSubscriptionRow } from "../db/billing-rows";
import { BillingError } from "./billing-error";

/**
 * How many days before the current period (or trial) ends its renewal may be
 * paid. A direct debit takes a few working days to collect, so the renewal
 * must be able to start a little before the period ends; any earlier would
 * charge for a period far ahead (each success advances the period by one
 * more interval).
 */
export const RENEWAL_WINDOW_DAYS = 3;

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Statuses that owe money now: never paid (`incomplete`), a trial that ended
 * unpaid (`paused`) or a renewal that failed (`past_due`, `unpaid`).
 */
const OWING_STATUSES: readonly UserSubscriptionRow["status"][] = ["incomplete", "paused", "past_due", "unpaid"];

/** The subscription fields the due rule reads (also the state an attempt's insert is guarded by). */
export type DueState = Pick<UserSubscriptionRow, "status" | "currentPeriodEnd" | "cancelAtPeriodEnd">;

/**
 * When the renewal of a period ending at `currentPeriodEnd` becomes payable:
 * {@link RENEWAL_WINDOW_DAYS} before that end.
 *
 * @example
 * ```ts
 * renewalDueFrom("2026-12-24T00:00:00.000Z") // 2026-12-21T00:00:00.000Z
 * ```
 */
export function renewalDueFrom(currentPeriodEnd: string): Date {
  return new Date(Date.parse(currentPeriodEnd) - RENEWAL_WINDOW_DAYS * DAY_MS);
}

/**
 * Throws 409 PAYMENT_NOT_DUE (`details: {currentPeriodEnd, dueFrom}`) unless
 * a payment is due at `now`: always for an owing status; for `active` and
 * `trialing` from {@link renewalDueFrom} of the current period (the trial,
 * while trialing); never (`dueFrom: null`) once the subscription is set to
 * end at the period's end. The caller has already checked that the status can
 * take a payment at all.
 *
 * @example
 * ```ts
 * assertPaymentDue(subscription, new Date())
 * ```
 */
export function assertPaymentDue(subscription: DueState, now: Date): void {
  // An ending subscription owes nothing more, whatever its status: in every
  // status a payment pays for the period after the current one.
  if (subscription.cancelAtPeriodEnd === 1) {
    throw new BillingError("PAYMENT_NOT_DUE", {
      message: "This subscription ends at the end of its period, so nothing more is due.",
      details: { currentPeriodEnd: subscription.currentPeriodEnd, dueFrom: null },
    });
  }
  if (OWING_STATUSES.includes(subscription.status)) return;
  const dueFrom = renewalDueFrom(subscription.currentPeriodEnd);
  if (dueFrom <= now) return;
  throw new BillingError("PAYMENT_NOT_DUE", {
    message: `The next payment is due from ${dueFrom.toISOString()}, ${RENEWAL_WINDOW_DAYS} days before the current period ends.`,
    details: { currentPeriodEnd: subscription.currentPeriodEnd, dueFrom: dueFrom.toISOString() },
  });
}

/**
 * Where the period a payment started now pays for begins, as known now
 * (`payment_attempts.periodStart`, unique with the attempt number): the end
 * of the stored period, which is always the last one paid (or the trial) —
 * except for a never-paid subscription, whose stored period is a placeholder
 * that its first payment replaces, so its start names it.
 *
 * @example
 * ```ts
 * attemptPeriodStart({ status: "active", currentPeriodStart: "2027-01-10T09:00:00.000Z", currentPeriodEnd: "2027-02-10T09:00:00.000Z" }) // "2027-02-10T09:00:00.000Z"
 * ```
 */
export function attemptPeriodStart(subscription: Pick<UserSubscriptionRow, "status" | "currentPeriodStart" | "currentPeriodEnd">): string {
  return subscription.status === "incomplete" ? subscription.currentPeriodStart : subscription.currentPeriodEnd;
}

/**
 * Whether nothing the due rule reads has changed between two reads of a
 * subscription (the same fields guard an attempt's insert).
 *
 * @example
 * ```ts
 * if (sameDueState(previous, fresh)) throw new BillingError("PAYMENT_IN_PROGRESS")
 * ```
 */
export function sameDueState(a: DueState, b: DueState): boolean {
  return a.status === b.status && a.currentPeriodEnd === b.currentPeriodEnd && a.cancelAtPeriodEnd === b.cancelAtPeriodEnd;
}
