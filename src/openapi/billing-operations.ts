/**
 * Every billing route as the OpenAPI document describes it: its guard, the
 * zod schemas its handler validates with (imported from the route files, so
 * the document cannot describe another body), its success answer and the
 * error codes only it answers. The codes every route of a kind answers
 * (a session, a JSON body, …) are added by {@link errorCodesOf}.
 *
 * Build-time only (`pnpm openapi`): the Worker never imports this folder.
 */
import type * as z from "zod";
import { planInputSchema, planPatchSchema } from "../billing/plan-input";
import type { ErrorCode } from "../http/error-codes";
import { pageQuery } from "../http/page-query";
import { noFields } from "../http/read-json-body";
import { createTokenBody } from "../routes/direct-debit-tokens";
import { createAttemptBody } from "../routes/payment-attempts";
import { createCustomerBody } from "../routes/provider-customers";
import { cancelBody, createSubscriptionBody } from "../routes/subscriptions";
import type { ResponseBodyName } from "./response-schemas";

/** Who may call a route: anyone, a signed-in user, a billing operator, or the payment provider (signed body). */
export type Guard = "public" | "session" | "operator" | "signature";

/** One billing route; `path` is Hono's, relative to `/api/billing` (`/plans/:code`). */
export interface BillingOperation {
  method: "get" | "post" | "patch" | "delete";
  path: string;
  summary: string;
  description?: string;
  tag: "Plans" | "Subscriptions" | "Payment attempts" | "Provider customers" | "Direct-debit tokens" | "Entitlements" | "Webhooks";
  guard: Guard;
  body?: z.ZodType;
  /** An empty body counts as `{}` (every field optional). */
  bodyOptional?: boolean;
  query?: z.ZodType;
  idempotencyKey?: boolean;
  success: { status: 200 | 201; body: ResponseBodyName; description: string };
  /** A second success status with the same body (an idempotent create: 201 the first time, 200 after). */
  alsoSuccess?: { status: 200; description: string };
  /** The codes this route answers beyond those of its guard, body and query. */
  errors: ErrorCode[];
}

export const BILLING_OPERATIONS: BillingOperation[] = [
  {
    method: "get", path: "/plans", tag: "Plans", guard: "public",
    summary: "List the active plans",
    success: { status: 200, body: "plans", description: "The public catalog." },
    errors: [],
  },
  {
    method: "post", path: "/plans", tag: "Plans", guard: "operator", body: planInputSchema,
    summary: "Create a plan",
    success: { status: 201, body: "operatorPlan", description: "The new plan." },
    errors: ["PLAN_EXISTS"],
  },
  {
    method: "patch", path: "/plans/:code", tag: "Plans", guard: "operator", body: planPatchSchema,
    summary: "Change a plan",
    description: "Price, currency and interval cannot change while the plan has live subscribers (409 PLAN_HAS_SUBSCRIBERS).",
    success: { status: 200, body: "operatorPlan", description: "The plan as saved." },
    errors: ["PLAN_NOT_FOUND", "PLAN_HAS_SUBSCRIBERS"],
  },
  {
    method: "post", path: "/plans/:code/deactivate", tag: "Plans", guard: "operator", body: noFields, bodyOptional: true,
    summary: "Stop taking new subscribers to a plan",
    description: "Live subscriptions keep running.",
    success: { status: 200, body: "operatorPlan", description: "The deactivated plan." },
    errors: ["PLAN_NOT_FOUND"],
  },
  {
    method: "post", path: "/subscriptions", tag: "Subscriptions", guard: "session", body: createSubscriptionBody,
    summary: "Subscribe to a plan",
    description: "`incomplete` until the first payment succeeds (`trialing` when the plan has trial days).",
    success: { status: 201, body: "subscription", description: "The new subscription." },
    errors: ["PLAN_NOT_FOUND", "SUBSCRIPTION_EXISTS"],
  },
  {
    method: "get", path: "/subscriptions", tag: "Subscriptions", guard: "session",
    summary: "List my subscriptions",
    success: { status: 200, body: "subscriptions", description: "Every subscription of the signed-in user, time events due by now applied." },
    errors: [],
  },
  {
    method: "get", path: "/subscriptions/:id", tag: "Subscriptions", guard: "session",
    summary: "Read a subscription",
    success: { status: 200, body: "subscription", description: "The subscription, time events due by now applied." },
    errors: ["SUBSCRIPTION_NOT_FOUND"],
  },
  {
    method: "post", path: "/subscriptions/:id/cancel", tag: "Subscriptions", guard: "session", body: cancelBody,
    summary: "Cancel now or at the end of the paid period",
    success: { status: 200, body: "subscription", description: "The subscription after the cancel." },
    errors: ["SUBSCRIPTION_NOT_FOUND", "INVALID_TRANSITION"],
  },
  {
    method: "post", path: "/subscriptions/:id/resume", tag: "Subscriptions", guard: "session", body: noFields, bodyOptional: true,
    summary: "Undo cancel-at-period-end while the period still runs",
    success: { status: 200, body: "subscription", description: "The subscription, renewing again." },
    errors: ["SUBSCRIPTION_NOT_FOUND", "INVALID_TRANSITION"],
  },
  {
    method: "post", path: "/subscriptions/:id/payment-attempts", tag: "Payment attempts", guard: "session",
    body: createAttemptBody, bodyOptional: true, idempotencyKey: true,
    summary: "Start a payment",
    description: "Amount and currency come from the plan. A retry with the same key and body answers the first 201 again.",
    success: { status: 201, body: "paymentAttempt", description: "The attempt (the same for every retry with this key)." },
    errors: [
      "SUBSCRIPTION_NOT_FOUND", "SUBSCRIPTION_NOT_PAYABLE", "PAYMENT_NOT_DUE", "NOTHING_TO_PAY",
      "PAYMENT_IN_PROGRESS", "TOKEN_NOT_FOUND", "NO_DEFAULT_TOKEN", "TOKEN_NOT_ACTIVE",
    ],
  },
  {
    method: "get", path: "/payment-attempts", tag: "Payment attempts", guard: "session", query: pageQuery,
    summary: "List my payment attempts, newest first",
    success: { status: 200, body: "paymentAttempts", description: "One page." },
    errors: [],
  },
  {
    method: "get", path: "/payment-attempts/:id", tag: "Payment attempts", guard: "session",
    summary: "Read a payment attempt",
    success: { status: 200, body: "paymentAttempt", description: "The attempt." },
    errors: ["PAYMENT_ATTEMPT_NOT_FOUND"],
  },
  {
    method: "post", path: "/provider-customers", tag: "Provider customers", guard: "session", body: createCustomerBody,
    summary: "Create my customer at the payment provider",
    description: "Idempotent per user: the first call creates the GoCardless customer (201), later calls answer the same customer (200) and send nothing. Mandates must be set up for this customer.",
    success: { status: 201, body: "customer", description: "The user's customer at the provider, created by this call." },
    alsoSuccess: { status: 200, description: "The user's customer at the provider, created by an earlier call; nothing was sent." },
    errors: ["PROVIDER_NOT_CONFIGURED", "PROVIDER_UNAVAILABLE"],
  },
  {
    method: "get", path: "/provider-customers", tag: "Provider customers", guard: "session",
    summary: "List my customers at payment providers",
    success: { status: 200, body: "customers", description: "At most one per provider." },
    errors: [],
  },
  {
    method: "post", path: "/direct-debit-tokens", tag: "Direct-debit tokens", guard: "session", body: createTokenBody,
    summary: "Store a direct-debit mandate",
    description: "The token is stored encrypted and never returned. GoCardless is asked for the mandate: it must belong to the user's provider customer, "
      + "and the token takes its status: `active` (the default when the user has none), or `pending` until the provider's mandate-activated webhook "
      + "(pending_customer_approval, pending_submission, submitted, suspended_by_payer); one that can never be charged (failed, cancelled, expired, consumed, blocked) is refused with MANDATE_UNUSABLE.",
    success: { status: 201, body: "token", description: "The stored token, masked." },
    errors: ["TOKEN_EXISTS", "TOKEN_ENCRYPTION_UNAVAILABLE", "PROVIDER_CUSTOMER_REQUIRED", "MANDATE_NOT_YOURS", "MANDATE_UNUSABLE", "PROVIDER_NOT_CONFIGURED", "PROVIDER_UNAVAILABLE"],
  },
  {
    method: "get", path: "/direct-debit-tokens", tag: "Direct-debit tokens", guard: "session", query: pageQuery,
    summary: "List my direct-debit tokens",
    success: { status: 200, body: "tokens", description: "One page, masked." },
    errors: [],
  },
  {
    method: "get", path: "/direct-debit-tokens/:id", tag: "Direct-debit tokens", guard: "session",
    summary: "Read a direct-debit token",
    success: { status: 200, body: "token", description: "The token, masked." },
    errors: ["TOKEN_NOT_FOUND"],
  },
  {
    method: "post", path: "/direct-debit-tokens/:id/default", tag: "Direct-debit tokens", guard: "session", body: noFields, bodyOptional: true,
    summary: "Make an active token my default",
    success: { status: 200, body: "token", description: "The new default token." },
    errors: ["TOKEN_NOT_FOUND", "TOKEN_NOT_ACTIVE"],
  },
  {
    method: "delete", path: "/direct-debit-tokens/:id", tag: "Direct-debit tokens", guard: "session",
    summary: "Revoke a direct-debit token",
    description: "Revoking twice answers the same.",
    success: { status: 200, body: "token", description: "The revoked token." },
    errors: ["TOKEN_NOT_FOUND"],
  },
  {
    method: "get", path: "/entitlements", tag: "Entitlements", guard: "session",
    summary: "The plans I may use now, and until when",
    success: { status: 200, body: "entitlements", description: "What an app gates features on." },
    errors: [],
  },
  {
    method: "post", path: "/webhooks/:provider", tag: "Webhooks", guard: "signature",
    summary: "Payment and mandate events from a provider",
    description:
      "`provider` is `gocardless`. The body is GoCardless's `{ \"events\": [...] }`, signed with `Webhook-Signature`: "
      + "the hex HMAC-SHA256 of the bytes received with the endpoint's secret (docs/gocardless.md). "
      + "Only a body of another shape is refused (400, nothing applied): signed bytes that are not UTF-8, not JSON, no `events` array of 1 to 250 objects; "
      + "odd values in an event are dropped, or the event is recorded as ignored.",
    success: { status: 200, body: "webhookDelivery", description: "What became of each event." },
    errors: ["NOT_FOUND", "WEBHOOK_NOT_CONFIGURED", "PAYLOAD_TOO_LARGE", "INVALID_JSON", "VALIDATION_FAILED", "INVALID_SIGNATURE"],
  },
];

/**
 * Every code `operation` can answer: its own, those of its guard, body,
 * query and idempotency key, and the two every `/api` route can answer.
 *
 * @example
 * ```ts
 * errorCodesOf(BILLING_OPERATIONS[0]) // ["SECRETS_NOT_CONFIGURED", "INTERNAL_ERROR"]
 * ```
 */
export function errorCodesOf(operation: BillingOperation): ErrorCode[] {
  const codes: ErrorCode[] = [];
  if (operation.guard === "session" || operation.guard === "operator") {
    // A cookie-carrying write from a foreign origin is refused before the session is read.
    if (operation.method !== "get") codes.push("UNTRUSTED_ORIGIN");
    codes.push("UNAUTHENTICATED");
  }
  if (operation.guard === "operator") codes.push("FORBIDDEN");
  if (operation.idempotencyKey) codes.push("IDEMPOTENCY_KEY_REQUIRED", "IDEMPOTENCY_KEY_INVALID", "IDEMPOTENCY_KEY_REUSED");
  if (operation.body) codes.push("PAYLOAD_TOO_LARGE", "UNSUPPORTED_MEDIA_TYPE", "INVALID_JSON", "VALIDATION_FAILED");
  if (operation.query) codes.push("VALIDATION_FAILED");
  codes.push(...operation.errors, "SECRETS_NOT_CONFIGURED", "INTERNAL_ERROR");
  return [...new Set(codes)];
}
