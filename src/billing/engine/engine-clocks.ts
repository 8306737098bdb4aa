/**
 * The engine's real-time clock: the wall clock, whatever the run's date. The
 * one rule for which clock a comparison uses (docs/billing-engine.md, *Two clocks*):
 *
 * - **Billing time**, the run's `scheduledTime` (`now` in the sweeps), for what
 *   the subscription's terms count: period and trial ends, the renewal window,
 *   the never-paid deadline, the past-due limit, the retry schedule (a `failed`
 *   attempt's `nextRetryAt`), an attempt's `createdAt` and `charge_date`. Moving
 *   it (`?time=`, a late run catching up) is how tests and catch-up drive billing.
 * - **Real time**, this clock, for what takes real time between us and
 *   GoCardless: a claim's lease, the backoff after a failed send, the give-up
 *   counted from `firstTriedAt` (the `nextRetryAt` of a `pending` or set-aside
 *   attempt), and the run's deadline (src/scheduled.ts). So a run dated ahead
 *   neither resends inside a backoff nor takes over a send in flight.
 *
 * `Date.now()`, which tests fake alone (`vi.spyOn(Date, "now")`) as well as with `vi.setSystemTime`.
 */
export const realTime = (): Date => new Date(Date.now());
