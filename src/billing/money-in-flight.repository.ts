import type { Kysely } from "kysely";
import type { DB } from "../db/generated";
import { ENDED_SUBSCRIPTION_STATUSES, OPEN_ATTEMPT_STATUSES } from "../db/billing-enums";

/** What stops a user's deletion: money that may still move, or is owed back. */
export interface MoneyInFlight {
  /** Payments pending or processing at the provider. */
  openAttempts: number;
  /** Payments collected for a subscription that no longer collects, not yet refunded. */
  refundsDue: number;
  /** Live subscriptions not set to end at their period's end (they would collect again). */
  collectingSubscriptions: number;
  /**
   * Payments we set aside that the provider may still collect: `canceled` with
   * `providerCancel` `due` (not cancelled there yet) or `cancellation_failed`
   * (already submitted), until the provider reports their end.
   */
  setAsideAtProvider: number;
}

/**
 * Counts what would be lost if `userId` were deleted now (the same rule as
 * the `user_delete_keeps_money` trigger, which makes it atomic).
 *
 * @example
 * ```ts
 * const money = await findMoneyInFlight(db, user.id)
 * if (hasMoneyInFlight(money)) throw ...
 * ```
 */
export async function findMoneyInFlight(db: Kysely<DB>, userId: string): Promise<MoneyInFlight> {
  const attempts = await db
    .selectFrom("payment_attempts")
    .select((eb) => [
      eb.fn.countAll<number>().filterWhere("status", "in", OPEN_ATTEMPT_STATUSES).as("openAttempts"),
      eb.fn.countAll<number>().filterWhere("refundDue", "=", 1).as("refundsDue"),
      eb.fn
        .countAll<number>()
        .filterWhere((w) => w.and([w("status", "=", "canceled"), w("providerCancel", "in", ["due", "cancellation_failed"])]))
        .as("setAside"),
    ])
    .where("userId", "=", userId)
    .executeTakeFirstOrThrow();
  const subscriptions = await db
    .selectFrom("user_subscriptions")
    .select((eb) => eb.fn.countAll<number>().as("collecting"))
    .where("userId", "=", userId)
    .where("status", "not in", ENDED_SUBSCRIPTION_STATUSES)
    .where("cancelAtPeriodEnd", "=", 0)
    .executeTakeFirstOrThrow();
  return {
    openAttempts: Number(attempts.openAttempts),
    refundsDue: Number(attempts.refundsDue),
    collectingSubscriptions: Number(subscriptions.collecting),
    setAsideAtProvider: Number(attempts.setAside),
  };
}

/** Whether anything in `money` stops a deletion. */
export function hasMoneyInFlight(money: MoneyInFlight): boolean {
  return money.openAttempts + money.refundsDue + money.collectingSubscriptions + money.setAsideAtProvider > 0;
}
