import { sql, type ExpressionBuilder, type Kysely } from "kysely";
import type { DB } from "../db/generated";
import { precompile } from "../db/precompiled-query";
import type { NewSubscriptionPlan, SubscriptionPlanRow, SubscriptionPlanUpdate } from "../db/billing-rows";
import { ENDED_SUBSCRIPTION_STATUSES } from "../db/billing-enums";
import type { Compilable } from "./d1-batch";
import { wroteRows } from "../db/wrote-rows";

/**
 * "The subscription is live", with the statuses as SQL literals: SQLite uses
 * the partial index `user_subscriptions_live_planId_idx` only for a query
 * whose WHERE contains the index's own condition, which bound parameters
 * never match.
 */
function isLive(eb: ExpressionBuilder<DB, "user_subscriptions">) {
  return eb("user_subscriptions.status", "not in", ENDED_SUBSCRIPTION_STATUSES.map((status) => sql.lit(status)));
}

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
  return listActivePlansQuery(db);
}

// The public catalog read of every pricing page: compiled once per isolate.
const listActivePlansQuery = precompile((db: Kysely<DB>) =>
  db.selectFrom("subscription_plans").selectAll().where("active", "=", 1).orderBy("amountMinor").orderBy("code"),
);

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
  return wroteRows(result);
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
            .where(isLive),
        ),
      ),
    );
  }
  const result = await query.executeTakeFirst();
  return wroteRows(result);
}

/**
 * Whether a plan has a live (not ended) subscription. An existence check, not
 * a count, on the partial index of live subscriptions: one index probe
 * however many (ended) subscribers the plan has.
 *
 * @example
 * ```ts
 * if (await hasLiveSubscribers(db, plan.id)) throw new ApiError("PLAN_HAS_SUBSCRIBERS")
 * ```
 */
export async function hasLiveSubscribers(db: Kysely<DB>, planId: string): Promise<boolean> {
  const row = await db
    .selectFrom("user_subscriptions")
    .select("planId")
    .where("planId", "=", planId)
    .where(isLive)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
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
