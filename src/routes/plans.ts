import { Hono } from "hono";
import { planView } from "../billing/api-views";
import { planInputSchema, planPatchSchema } from "../billing/plan-input";
import { findPlanByCode, insertPlan, listActivePlans, PRICING_FIELDS, updatePlan } from "../billing/plans.repository";
import { getDb } from "../db/get-db";
import { ApiError } from "../http/api-error";
import { noFields, readJsonBody } from "../http/read-json-body";
import { requireOperator } from "../http/require-operator";
import { requireSession } from "../http/require-session";
import type { SessionEnv } from "../http/session-env";

/**
 * `/api/billing/plans`: the public catalog, and plan management for operators
 * (`BILLING_OPERATOR_EMAILS`). Plans are addressed by their stable code.
 */
export const planRoutes = new Hono<SessionEnv>();

planRoutes.get("/", async (c) => {
  const plans = await listActivePlans(getDb(c.env.DB));
  return c.json({ plans: plans.map(planView) });
});

planRoutes.post("/", requireSession, requireOperator, async (c) => {
  const body = await readJsonBody(c, planInputSchema);
  const db = getDb(c.env.DB);
  const now = new Date().toISOString();
  const { active, ...fields } = body;
  const inserted = await insertPlan(db, {
    id: crypto.randomUUID(),
    ...fields,
    description: fields.description ?? null,
    active: active ? 1 : 0,
    createdBy: c.get("user").id,
    createdAt: now,
    updatedAt: now,
  });
  if (!inserted) throw new ApiError("PLAN_EXISTS", { details: { code: body.code } });
  const plan = (await findPlanByCode(db, body.code))!;
  return c.json({ plan: { ...planView(plan), createdBy: plan.createdBy } }, 201);
});

planRoutes.patch("/:code", requireSession, requireOperator, async (c) => {
  const code = c.req.param("code");
  const patch = await readJsonBody(c, planPatchSchema);
  const db = getDb(c.env.DB);
  const plan = await findPlanByCode(db, code);
  if (!plan) throw new ApiError("PLAN_NOT_FOUND");

  const { active, ...fields } = patch;
  const pricingChanges = PRICING_FIELDS.filter((field) => fields[field] !== undefined && fields[field] !== plan[field]);
  const updated = await updatePlan(
    db,
    code,
    { ...fields, ...(active !== undefined && { active: active ? 1 : 0 }), updatedAt: new Date().toISOString() },
    { guardPricing: pricingChanges.length > 0 },
  );
  if (!updated) {
    // A plan still there was refused by the price lock alone (live subscribers when it ran).
    throw (await findPlanByCode(db, code)) ? new ApiError("PLAN_HAS_SUBSCRIBERS", { details: { fields: pricingChanges } }) : new ApiError("PLAN_NOT_FOUND");
  }
  const saved = (await findPlanByCode(db, code))!;
  return c.json({ plan: { ...planView(saved), createdBy: saved.createdBy } });
});

planRoutes.post("/:code/deactivate", requireSession, requireOperator, async (c) => {
  await readJsonBody(c, noFields, { emptyAsObject: true });
  const code = c.req.param("code");
  const db = getDb(c.env.DB);
  // Live subscriptions keep running; a deactivated plan only stops taking new subscribers.
  const updated = await updatePlan(db, code, { active: 0, updatedAt: new Date().toISOString() }, { guardPricing: false });
  if (!updated) throw new ApiError("PLAN_NOT_FOUND");
  const saved = (await findPlanByCode(db, code))!;
  return c.json({ plan: { ...planView(saved), createdBy: saved.createdBy } });
});
