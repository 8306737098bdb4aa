/**
 * How long after a failed direct-debit collection the next attempt is due,
 * by the failed attempt's `attemptNumber`: 1 day, then 3, then 7 (a bank
 * needs a few working days; spacing retries out raises the chance that the
 * account has been topped up). After the third failure there is no retry:
 * the subscription becomes `unpaid`.
 */
export const RETRY_DELAYS_DAYS = [1, 3, 7] as const;

/**
 * When to retry after attempt number `attemptNumber` failed at `failedAt`,
 * or `null` when the schedule is exhausted.
 *
 * @example
 * ```ts
 * nextRetryAt(1, new Date("2026-11-24T12:00:00Z")) // 2026-11-25T12:00:00Z
 * nextRetryAt(4, new Date())                       // null
 * ```
 */
export function nextRetryAt(attemptNumber: number, failedAt: Date): Date | null {
  const days = RETRY_DELAYS_DAYS[attemptNumber - 1];
  if (days === undefined) return null;
  return new Date(failedAt.getTime() + days * 24 * 60 * 60 * 1000);
}
