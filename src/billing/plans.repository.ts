import type { Kysely } from "kysely";
import type { DB } from "../db/generated";
import type { NewSubscriptionPlan, SubscriptionPlanRow, SubscriptionPlanUpdate } from "../db/schema/billing";
import { LIVE_SUBSCRIPTION_STATUSES } from "./billing-enums";
import type { Compilable } from "./d1-batch";

/** Plan fields that set what a subscriber pays: frozen while the plan has live subscribers. */
export const PRICING_FIELDS = ["amountMinor", "currency", "interval", "intervalCount"] as const;

/**
 * Active plans, cheapest first (the public catalog).
 *
 * @example
 * ```ts
 * const plans = await listActivePlans(db)
 * ```
 */
export function listActivePlans(db: Kysely<DB>): Promise<SubscriptionPlanRow[]> {
  return db
    .selectFrom("subscription_plans")
    .selectAll()
    .where("active", "=", 1)
    .orderBy("amountMinor")
    .orderBy("code")
    .execute();
}

/** A plan by its code, active or not. */
export function findPlanByCode(db: Kysely<DB>, code: string): Promise<SubscriptionPlanRow | undefined> {
  return db.selectFrom("subscription_plans").selectAll().where("code", "=", code).executeTakeFirst();
}

/** A plan by id. */
export function findPlanById(db: Kysely<DB>, id: string): Promise<SubscriptionPlanRow | undefined> {
  return db.selectFrom("subscription_plans").selectAll().where("id", "=", id).executeTakeFirst();
}

/**
 * Inserts a plan unless its code is taken (the unique index decides, so two
 * concurrent creates cannot both win).
 *
 * @returns whether the plan was inserted.
 * @example
 * ```ts
 * if (!(await insertPlan(db, plan))) throw new ApiError("PLAN_EXISTS")
 * ```
 */
export async function insertPlan(db: Kysely<DB>, plan: NewSubscriptionPlan): Promise<boolean> {
  const result = await db
    .insertInto("subscription_plans")
    .values(plan)
    .onConflict((conflict) => conflict.doNothing())
    .executeTakeFirst();
  return (result.numInsertedOrUpdatedRows ?? 0n) > 0n;
}

/**
 * Updates a plan by code. When the change touches {@link PRICING_FIELDS},
 * the update carries its own "no live subscribers" condition, so a
 * subscription created at the same moment cannot slip under a new price.
 *
 * @returns whether a row was updated.
 * @example
 * ```ts
 * const updated = await updatePlan(db, "pro-monthly", { amountMinor: 1200, updatedAt }, { guardPricing: true })
 * ```
 */
export async function updatePlan(
  db: Kysely<DB>,
  code: string,
  changes: SubscriptionPlanUpdate,
  options: { guardPricing: boolean },
): Promise<boolean> {
  let query = db.updateTable("subscription_plans").set(changes).where("code", "=", code);
  if (options.guardPricing) {
    query = query.where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom("user_subscriptions")
            .select("user_subscriptions.id")
            .whereRef("user_subscriptions.planId", "=", "subscription_plans.id")
            .where("user_subscriptions.status", "in", LIVE_SUBSCRIPTION_STATUSES),
        ),
      ),
    );
  }
  const result = await query.executeTakeFirst();
  return (result.numUpdatedRows ?? 0n) > 0n;
}

/** How many live (not ended) subscriptions a plan has. */
export async function countLiveSubscribers(db: Kysely<DB>, planId: string): Promise<number> {
  const row = await db
    .selectFrom("user_subscriptions")
    .select((eb) => eb.fn.countAll<number>().as("count"))
    .where("planId", "=", planId)
    .where("status", "in", LIVE_SUBSCRIPTION_STATUSES)
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

/**
 * An upsert by code (for `pnpm billing:plans`): inserts the plan, or updates
 * every field of the existing one but its id, createdBy and createdAt.
 *
 * @example
 * ```ts
 * await runBatch(d1, plans.map((plan) => upsertPlanQuery(db, plan)))
 * ```
 */
export function upsertPlanQuery(db: Kysely<DB>, plan: NewSubscriptionPlan): Compilable {
  return db
    .insertInto("subscription_plans")
    .values(plan)
    .onConflict((conflict) =>
      conflict.column("code").doUpdateSet((eb) => ({
        name: eb.ref("excluded.name"),
        description: eb.ref("excluded.description"),
        amountMinor: eb.ref("excluded.amountMinor"),
        currency: eb.ref("excluded.currency"),
        interval: eb.ref("excluded.interval"),
        intervalCount: eb.ref("excluded.intervalCount"),
        trialDays: eb.ref("excluded.trialDays"),
        active: eb.ref("excluded.active"),
        updatedAt: eb.ref("excluded.updatedAt"),
      })),
    );
}
