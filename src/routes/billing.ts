import { Hono } from "hono";
import type { SessionEnv } from "../http/session-env";
import { tokenRoutes } from "./direct-debit-tokens";
import { entitlementRoutes } from "./entitlements";
import { paymentAttemptRoutes } from "./payment-attempts";
import { planRoutes } from "./plans";
import { providerCustomerRoutes } from "./provider-customers";
import { subscriptionRoutes } from "./subscriptions";
import { webhookRoutes } from "./webhooks";

/**
 * Everything under `/api/billing`, one route file per resource. Each route
 * names its own guards (session, operator), because plans' GET and webhooks
 * are public.
 */
export const billingRoutes = new Hono<SessionEnv>()
  .route("/plans", planRoutes)
  .route("/subscriptions", subscriptionRoutes)
  .route("/", paymentAttemptRoutes)
  .route("/provider-customers", providerCustomerRoutes)
  .route("/direct-debit-tokens", tokenRoutes)
  .route("/entitlements", entitlementRoutes)
  .route("/webhooks", webhookRoutes);
