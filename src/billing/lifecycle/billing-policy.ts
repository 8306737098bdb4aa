/**
 * The billing lifecycle's tunable numbers, in one place. Every rule that
 * waits for time reads them from here (the lifecycle module, the retry
 * schedule, the entitlement rule); docs/billing-lifecycle.md explains them.
 *
 * @example
 * ```ts
 * const expiresAt = Date.parse(subscription.createdAt) + BILLING_POLICY.incompleteDeadlineHours * HOUR_MS
 * ```
 */
export const BILLING_POLICY: BillingPolicy = {
  /**
   * How long a never-paid (`incomplete`) subscription waits for its first
   * payment to be started before it becomes `incomplete_expired`. Stripe
   * uses 23 hours for cards; a direct-debit mandate needs a few working days
   * to become active before the first payment can even be started, so a
   * week. A submitted payment keeps it waiting however long it takes.
   */
  incompleteDeadlineHours: 7 * 24,
  /**
   * Days after a failed collection (by how many of its period's attempts
   * failed, not its `attemptNumber`: after the 1st failure 1 day, after the
   * 2nd 3 days, after the 3rd 7 days) until the next attempt is due. After
   * the 4th failure the schedule is exhausted.
   */
  retryDelaysDays: [1, 3, 7],
  /**
   * What an exhausted retry schedule does to a `past_due` subscription:
   * `unpaid` keeps it (a later payment restarts it), `canceled` ends it.
   */
  whenRetriesExhausted: "unpaid",
  /**
   * Days of access a `past_due` subscription keeps after its paid period
   * ended, while its renewal is being collected (0 = none).
   */
  pastDueGraceDays: 3,
  /**
   * Days after an attempt is first tried (`firstTriedAt`, not `createdAt`: an
   * attempt created days before its first run was never tried) during which a
   * submission the provider refuses (or that never reaches it) is sent again. After that the attempt
   * fails like a refused collection and the retry schedule goes on, so an
   * attempt that can never be created never keeps a subscription past due.
   */
  submissionGiveUpDays: 3,
  /**
   * Hours a retry that fell due (after a failure, or at once after a
   * reversal) keeps holding off the past-due limit, so the engine (every 15
   * minutes) can create it before the subscription ends unpaid: a chargeback
   * weeks after its period started is collected again, not ended. With no
   * mandate to retry on, the limit applies this long after the retry's time.
   */
  dueRetryGraceHours: 24,
};

/** The shape of {@link BILLING_POLICY}. */
export interface BillingPolicy {
  incompleteDeadlineHours: number;
  retryDelaysDays: readonly number[];
  whenRetriesExhausted: "unpaid" | "canceled";
  pastDueGraceDays: number;
  submissionGiveUpDays: number;
  dueRetryGraceHours: number;
}

export const HOUR_MS = 60 * 60 * 1000;
export const DAY_MS = 24 * HOUR_MS;

/**
 * How long a `past_due` subscription may stay past due before its retry
 * schedule counts as exhausted even without a final failure: the whole
 * schedule's spacing after the paid period ended.
 */
export const PAST_DUE_LIMIT_DAYS = BILLING_POLICY.retryDelaysDays.reduce((sum: number, days: number) => sum + days, 0);
