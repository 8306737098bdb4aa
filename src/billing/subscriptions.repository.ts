import type { Kysely } from "kysely";
import type { DB } from "../db/generated";
import { precompile } from "../db/precompiled-query";
import type { NewUserSubscription, UserSubscriptionRow, UserSubscriptionUpdate } from "../db/billing-rows";
import { wroteRows } from "../db/wrote-rows";

/** A subscription with its plan's code, as the API shows it. */
export type SubscriptionWithPlan = UserSubscriptionRow & { planCode: string };

function selectWithPlan(db: Kysely<DB>) {
  return db
    .selectFrom("user_subscriptions")
    .innerJoin("subscription_plans", "subscription_plans.id", "user_subscriptions.planId")
    .selectAll("user_subscriptions")
    .select("subscription_plans.code as planCode");
}

/**
 * Inserts a subscription unless the user already holds a live one to the
 * plan. The partial unique index decides (no racy pre-check): of two
 * concurrent requests exactly one inserts.
 *
 * @returns whether the row was inserted.
 * @example
 * ```ts
 * if (!(await insertSubscription(db, row))) throw new ApiError("SUBSCRIPTION_EXISTS")
 * ```
 */
export async function insertSubscription(db: Kysely<DB>, row: NewUserSubscription): Promise<boolean> {
  const result = await db
    .insertInto("user_subscriptions")
    .values(row)
    .onConflict((conflict) => conflict.doNothing())
    .executeTakeFirst();
  return wroteRows(result);
}

// The two hot reads of every signed-in page: compiled once per isolate (their shape never changes).
const listSubscriptionsQuery = precompile((db: Kysely<DB>, userId: string) =>
  selectWithPlan(db)
    .where("user_subscriptions.userId", "=", userId)
    .orderBy("user_subscriptions.createdAt", "desc")
    .orderBy("user_subscriptions.id", "desc"),
);
const findSubscriptionQuery = precompile((db: Kysely<DB>, userId: string, id: string) =>
  selectWithPlan(db).where("user_subscriptions.userId", "=", userId).where("user_subscriptions.id", "=", id),
);

/**
 * The user's subscriptions, newest first.
 *
 * @example
 * ```ts
 * const mine = await listSubscriptions(db, user.id)
 * ```
 */
export function listSubscriptions(db: Kysely<DB>, userId: string): Promise<SubscriptionWithPlan[]> {
  return listSubscriptionsQuery(db, userId);
}

/**
 * One of the user's subscriptions; another user's id finds nothing, exactly
 * like a missing one.
 *
 * @example
 * ```ts
 * const subscription = await findSubscription(db, user.id, c.req.param("id"))
 * ```
 */
export async function findSubscription(db: Kysely<DB>, userId: string, id: string): Promise<SubscriptionWithPlan | undefined> {
  return (await findSubscriptionQuery(db, userId, id))[0];
}

/**
 * Updates one of the user's subscriptions only if its status is still
 * `expectedStatus` (optimistic concurrency: a concurrent change wins and
 * this update does nothing).
 *
 * @returns whether the row was updated.
 * @example
 * ```ts
 * await updateSubscriptionIfStatus(db, user.id, id, "active", { status: "canceled", canceledAt: now, updatedAt: now })
 * ```
 */
export async function updateSubscriptionIfStatus(
  db: Kysely<DB>,
  userId: string,
  id: string,
  expectedStatus: UserSubscriptionRow["status"],
  changes: UserSubscriptionUpdate,
): Promise<boolean> {
  const result = await db
    .updateTable("user_subscriptions")
    .set(changes)
    .where("userId", "=", userId)
    .where("id", "=", id)
    .where("status", "=", expectedStatus)
    .executeTakeFirst();
  return wroteRows(result);
}
