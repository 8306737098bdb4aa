import { Hono } from "hono";
import * as z from "zod";
import { subscriptionView } from "../billing/api-views";
import { subscriptionPlanFields } from "../billing/billing-validation";
import { addInterval } from "../billing/billing-period";
import { findPlanByCode } from "../billing/plans.repository";
import { assertTransition } from "../billing/subscription-transitions";
import {
  findSubscription,
  insertSubscription,
  listSubscriptions,
  updateSubscriptionIfStatus,
  type SubscriptionWithPlan,
} from "../billing/subscriptions.repository";
import { getDb } from "../db/get-db";
import { ApiError } from "../http/api-error";
import { readJsonBody } from "../http/read-json-body";
import { requireSession } from "../http/require-session";
import type { SessionEnv } from "../http/session-env";

const DAY_MS = 24 * 60 * 60 * 1000;

const createSubscriptionBody = z.strictObject({ planCode: subscriptionPlanFields.shape.code });
const cancelBody = z.strictObject({ atPeriodEnd: z.boolean() });

/**
 * `/api/billing/subscriptions`: the signed-in user's subscriptions. Every
 * status change goes through the transition table (subscription-transitions.ts).
 */
export const subscriptionRoutes = new Hono<SessionEnv>();

subscriptionRoutes.post("/", requireSession, async (c) => {
  const { planCode } = await readJsonBody(c, createSubscriptionBody);
  const db = getDb(c.env.DB);
  const plan = await findPlanByCode(db, planCode);
  if (!plan || plan.active !== 1) throw new ApiError("PLAN_NOT_FOUND", { details: { planCode } });

  const now = new Date();
  const trialEndsAt = plan.trialDays > 0 ? new Date(now.getTime() + plan.trialDays * DAY_MS) : null;
  // The period is the one the next payment covers: the trial while trialing,
  // else the first interval (a placeholder until the first payment succeeds,
  // which restarts it from the moment of payment).
  const periodEnd = trialEndsAt ?? addInterval(now, plan.interval, plan.intervalCount);
  const status = trialEndsAt ? "trialing" : plan.amountMinor === 0 ? "active" : "incomplete";
  const id = crypto.randomUUID();
  const inserted = await insertSubscription(db, {
    id,
    userId: c.get("user").id,
    planId: plan.id,
    status,
    currentPeriodStart: now.toISOString(),
    currentPeriodEnd: periodEnd.toISOString(),
    trialEndsAt: trialEndsAt?.toISOString() ?? null,
    cancelAtPeriodEnd: 0,
    canceledAt: null,
    endedAt: null,
    provider: null,
    providerSubscriptionId: null,
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
  });
  if (!inserted) throw new ApiError("SUBSCRIPTION_EXISTS", { details: { planCode } });
  const subscription = (await findSubscription(db, c.get("user").id, id))!;
  return c.json({ subscription: subscriptionView(subscription) }, 201);
});

subscriptionRoutes.get("/", requireSession, async (c) => {
  const subscriptions = await listSubscriptions(getDb(c.env.DB), c.get("user").id);
  return c.json({ subscriptions: subscriptions.map(subscriptionView) });
});

subscriptionRoutes.get("/:id", requireSession, async (c) => {
  const subscription = await findSubscription(getDb(c.env.DB), c.get("user").id, c.req.param("id"));
  if (!subscription) throw new ApiError("SUBSCRIPTION_NOT_FOUND");
  return c.json({ subscription: subscriptionView(subscription) });
});

subscriptionRoutes.post("/:id/cancel", requireSession, async (c) => {
  const userId = c.get("user").id;
  const id = c.req.param("id");
  const { atPeriodEnd } = await readJsonBody(c, cancelBody);
  const db = getDb(c.env.DB);
  // Optimistic: the update applies only if the status is still the one we
  // read; on a concurrent change, decide again from the fresh row.
  for (let attempt = 0; attempt < 3; attempt++) {
    const subscription = await findSubscription(db, userId, id);
    if (!subscription) throw new ApiError("SUBSCRIPTION_NOT_FOUND");
    assertTransition(subscription.status, "canceled");
    const now = new Date().toISOString();
    const changes = cancelsAtPeriodEnd(subscription, atPeriodEnd, now)
      ? { cancelAtPeriodEnd: 1 as const, canceledAt: subscription.canceledAt ?? now, updatedAt: now }
      : { status: "canceled" as const, cancelAtPeriodEnd: 0 as const, canceledAt: now, endedAt: now, updatedAt: now };
    if (await updateSubscriptionIfStatus(db, userId, id, subscription.status, changes)) {
      return c.json({ subscription: subscriptionView((await findSubscription(db, userId, id))!) });
    }
  }
  throw new Error(`subscription ${id} kept changing while being canceled`);
});

/**
 * `atPeriodEnd` keeps a running paid or trial period (the subscription stays
 * active/trialing with `cancelAtPeriodEnd`); with nothing paid still running
 * the subscription is canceled now.
 */
function cancelsAtPeriodEnd(subscription: SubscriptionWithPlan, atPeriodEnd: boolean, now: string): boolean {
  return atPeriodEnd && (subscription.status === "active" || subscription.status === "trialing") && subscription.currentPeriodEnd > now;
}
