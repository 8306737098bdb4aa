import { Hono } from "hono";
import { findEntitlements } from "../billing/entitlements.repository";
import { getDb } from "../db/get-db";
import { requireSession } from "../http/require-session";
import type { SessionEnv } from "../http/session-env";

/**
 * `GET /api/billing/entitlements`: the plans the signed-in user may use now
 * and until when (docs/billing-lifecycle.md, "Entitlement").
 */
export const entitlementRoutes = new Hono<SessionEnv>();

entitlementRoutes.get("/", requireSession, async (c) => {
  return c.json({ entitlements: await findEntitlements(getDb(c.env.DB), c.get("user").id, new Date()) });
});
