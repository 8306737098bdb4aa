import { Hono } from "hono";
import * as z from "zod";
import { subscriptionView } from "../billing/api-views";
import { planCodeSchema } from "../db/column-schemas";
import { decide } from "../billing/lifecycle/decide";
import { mayHaveDueTimeEvent } from "../billing/lifecycle/due-time-event";
import { findPlanByCode } from "../billing/plans.repository";
import { lifecycleStateOf, settleSubscription } from "../billing/subscription-lifecycle.repository";
import { findSubscription, insertSubscription, listSubscriptions } from "../billing/subscriptions.repository";
import { getDb } from "../db/get-db";
import { ApiError } from "../http/api-error";
import { noFields, readJsonBody } from "../http/read-json-body";
import { requireSession } from "../http/require-session";
import type { SessionEnv } from "../http/session-env";

export const createSubscriptionBody = z.strictObject({ planCode: planCodeSchema });
export const cancelBody = z.strictObject({ atPeriodEnd: z.boolean() });

/**
 * `/api/billing/subscriptions`: the signed-in user's subscriptions. Every
 * status or period change is decided by the lifecycle module
 * (billing/lifecycle/decide.ts) and written once, guarded by the state read;
 * reading a subscription first applies the time events due by now.
 */
export const subscriptionRoutes = new Hono<SessionEnv>();

subscriptionRoutes.post("/", requireSession, async (c) => {
  const { planCode } = await readJsonBody(c, createSubscriptionBody);
  const db = getDb(c.env.DB);
  const plan = await findPlanByCode(db, planCode);
  if (!plan || plan.active !== 1) throw new ApiError("PLAN_NOT_FOUND", { details: { planCode } });

  const now = new Date();
  const { state } = decide(null, plan, { type: "subscribe" }, now);
  const id = crypto.randomUUID();
  const inserted = await insertSubscription(db, {
    id,
    userId: c.get("user").id,
    planId: plan.id,
    ...state,
    provider: null,
    providerSubscriptionId: null,
    updatedAt: state.createdAt,
  });
  if (!inserted) throw new ApiError("SUBSCRIPTION_EXISTS", { details: { planCode } });
  const subscription = (await findSubscription(db, c.get("user").id, id))!;
  return c.json({ subscription: subscriptionView(subscription) }, 201);
});

subscriptionRoutes.get("/", requireSession, async (c) => {
  const db = getDb(c.env.DB);
  const userId = c.get("user").id;
  const now = new Date();
  const rows = await listSubscriptions(db, userId);
  // Live ones catch up with the clock; one with no time event possibly due by now (every
  // ended one, any whose period runs on) is shown as read: a read stays one D1 call.
  const settled = await Promise.all(
    rows.map(async (row) => (mayHaveDueTimeEvent(lifecycleStateOf(row), now) ? ((await settleSubscription(c.env.DB, userId, row.id, null, now)) ?? row) : row)),
  );
  return c.json({ subscriptions: settled.map(subscriptionView) });
});

subscriptionRoutes.get("/:id", requireSession, async (c) => {
  const subscription = await settleSubscription(c.env.DB, c.get("user").id, c.req.param("id"), null, new Date());
  if (!subscription) throw new ApiError("SUBSCRIPTION_NOT_FOUND");
  return c.json({ subscription: subscriptionView(subscription) });
});

/**
 * `atPeriodEnd: true` keeps a running paid or trial period (the subscription
 * stays active/trialing with `cancelAtPeriodEnd`, undone by `/resume`); with
 * nothing paid still running, or `atPeriodEnd: false`, it is canceled now.
 */
subscriptionRoutes.post("/:id/cancel", requireSession, async (c) => {
  const { atPeriodEnd } = await readJsonBody(c, cancelBody);
  const event = atPeriodEnd ? ({ type: "cancel_at_period_end" } as const) : ({ type: "cancel_now" } as const);
  const subscription = await settleSubscription(c.env.DB, c.get("user").id, c.req.param("id"), event, new Date());
  if (!subscription) throw new ApiError("SUBSCRIPTION_NOT_FOUND");
  return c.json({ subscription: subscriptionView(subscription) });
});

/** Undoes cancel-at-period-end while the period still runs (else 409 INVALID_TRANSITION). Takes no fields. */
subscriptionRoutes.post("/:id/resume", requireSession, async (c) => {
  await readJsonBody(c, noFields, { emptyAsObject: true });
  const subscription = await settleSubscription(c.env.DB, c.get("user").id, c.req.param("id"), { type: "resume" }, new Date());
  if (!subscription) throw new ApiError("SUBSCRIPTION_NOT_FOUND");
  return c.json({ subscription: subscriptionView(subscription) });
});
