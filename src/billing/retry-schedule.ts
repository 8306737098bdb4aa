import { BILLING_POLICY, DAY_MS, HOUR_MS } from "./lifecycle/billing-policy";

/**
 * When to retry after the `failure`th failure of a period (periodFailures + 1:
 * attempts we set aside do not count, whatever their attemptNumber) at `failedAt`
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
export function nextRetryAt(failure: number, failedAt: Date): Date | null {
  const days = BILLING_POLICY.retryDelaysDays[failure - 1];
  if (days === undefined) return null;
  return new Date(failedAt.getTime() + days * DAY_MS);
}

/** The shortest and longest wait before an attempt the provider refused to create is sent again. */
export const SUBMISSION_BACKOFF_MS = { min: HOUR_MS / 4, max: DAY_MS } as const;

/**
 * When to send again an attempt whose submission failed at `failedAt` (the
 * provider answered an error, or did not answer): after as long as the
 * attempt has already been tried, since `firstTriedAt`, between 15 minutes and a
 * day — an exponential backoff that needs no counter, so a provider outage
 * is not hammered every run and a blip costs one run. `null` once it has
 * been failing for BILLING_POLICY.submissionGiveUpDays: the attempt then
 * fails, and the retry schedule takes over.
 *
 * @example
 * ```ts
 * nextSubmissionAt("2026-12-01T09:00:00.000Z", new Date("2026-12-01T10:00:00.000Z")) // 2026-12-01T11:00:00.000Z
 * nextSubmissionAt("2026-12-01T09:00:00.000Z", new Date("2026-12-04T09:00:00.000Z")) // null
 * ```
 */
export function nextSubmissionAt(firstTriedAt: string, failedAt: Date): Date | null {
  const waited = failedAt.getTime() - Date.parse(firstTriedAt);
  if (waited >= BILLING_POLICY.submissionGiveUpDays * DAY_MS) return null;
  const wait = Math.min(Math.max(waited, SUBMISSION_BACKOFF_MS.min), SUBMISSION_BACKOFF_MS.max);
  return new Date(failedAt.getTime() + wait);
}
