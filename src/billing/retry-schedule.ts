import { BILLING_POLICY, DAY_MS } from "./lifecycle/billing-policy";

/**
 * When to retry after attempt number `attemptNumber` failed at `failedAt`
 * (BILLING_POLICY.retryDelaysDays: 1 day after the 1st failure, 3 after the
 * 2nd, 7 after the 3rd), or `null` once the schedule is exhausted (after the
 * 4th failure): a `past_due` subscription then follows
 * BILLING_POLICY.whenRetriesExhausted.
 *
 * @example
 * ```ts
 * nextRetryAt(1, new Date("2026-11-24T12:00:00Z")) // 2026-11-25T12:00:00Z
 * nextRetryAt(3, new Date("2026-11-24T12:00:00Z")) // 2026-12-01T12:00:00Z
 * nextRetryAt(4, new Date())                       // null
 * ```
 */
export function nextRetryAt(attemptNumber: number, failedAt: Date): Date | null {
  const days = BILLING_POLICY.retryDelaysDays[attemptNumber - 1];
  if (days === undefined) return null;
  return new Date(failedAt.getTime() + days * DAY_MS);
}
