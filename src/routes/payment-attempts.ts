import { Hono, type Context } from "hono";
import { z } from "zod";
import { paymentAttemptView } from "../billing/api-views";
import { billingIdSchema } from "../billing/billing-validation";
import { BILLING_LIMITS } from "../billing/billing-limits";
import { findDefaultToken, findToken } from "../billing/direct-debit-tokens.repository";
import { decodeCursor, encodeCursor } from "../billing/keyset-cursor";
import {
  findAttempt,
  findAttemptByIdempotencyKey,
  insertAttemptIfIdle,
  listAttempts,
  nextAttemptNumber,
} from "../billing/payment-attempts.repository";
import { findPlanById } from "../billing/plans.repository";
import { requestFingerprint } from "../billing/request-fingerprint";
import { findSubscription } from "../billing/subscriptions.repository";
import { createDb } from "../db/create-db";
import type { PaymentAttemptRow } from "../db/schema/billing";
import { ApiError } from "../http/api-error";
import { readIdempotencyKey } from "../http/idempotency-key";
import { readJsonBody } from "../http/read-json-body";
import { requireSession } from "../http/require-session";
import type { SessionEnv } from "../http/session-env";
import { validate } from "../http/validate";

/**
 * The only field a user may send: which of their tokens to charge. Amount,
 * currency and outcome are not fields at all, so `amountMinor` & co. are 400.
 */
const createAttemptBody = z.strictObject({ directDebitTokenId: billingIdSchema.optional() });

const listQuery = z.strictObject({
  cursor: z.string().max(512).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});

/** Subscription states in which a payment can be started. */
const PAYABLE_STATUSES = ["incomplete", "trialing", "active", "past_due", "unpaid"] as const;

/**
 * Payment attempts: a user starts one (idempotently); only the provider's
 * webhook decides its outcome. Mounted at `/api/billing`.
 */
export const paymentAttemptRoutes = new Hono<SessionEnv>();

paymentAttemptRoutes.post("/subscriptions/:id/payment-attempts", requireSession, async (c) => {
  const userId = c.get("user").id;
  const idempotencyKey = readIdempotencyKey(c);
  const body = await readJsonBody(c, createAttemptBody, { emptyAsObject: true });
  const fingerprint = await requestFingerprint(c.req.method, c.req.path, body);
  const db = createDb(c.env.DB);

  const earlier = await findAttemptByIdempotencyKey(db, userId, idempotencyKey);
  if (earlier) return replay(c, earlier, fingerprint);

  const subscription = await findSubscription(db, userId, c.req.param("id"));
  if (!subscription) throw new ApiError("SUBSCRIPTION_NOT_FOUND");
  if (!(PAYABLE_STATUSES as readonly string[]).includes(subscription.status)) {
    throw new ApiError("SUBSCRIPTION_NOT_PAYABLE", { details: { status: subscription.status } });
  }
  const plan = (await findPlanById(db, subscription.planId))!;
  if (plan.amountMinor === 0) throw new ApiError("NOTHING_TO_PAY");

  const token = body.directDebitTokenId ? await findToken(db, userId, body.directDebitTokenId) : await findDefaultToken(db, userId);
  if (!token) throw new ApiError(body.directDebitTokenId ? "TOKEN_NOT_FOUND" : "NO_DEFAULT_TOKEN");
  if (token.status !== "active") throw new ApiError("TOKEN_NOT_ACTIVE", { details: { status: token.status } });

  const now = new Date().toISOString();
  await insertAttemptIfIdle(db, {
    id: crypto.randomUUID(),
    userId,
    subscriptionId: subscription.id,
    directDebitTokenId: token.id,
    // The amount due comes from the plan, never from the request.
    amountMinor: plan.amountMinor,
    currency: plan.currency,
    status: "pending",
    attemptNumber: Math.min(await nextAttemptNumber(db, subscription.id), BILLING_LIMITS.maxAttemptNumber),
    idempotencyKey,
    requestFingerprint: fingerprint,
    provider: token.provider,
    providerPaymentId: null,
    failureCode: null,
    failureMessage: null,
    nextRetryAt: null,
    createdAt: now,
    updatedAt: now,
  });
  // Whoever inserted, every request with this key now answers from the stored row.
  const stored = await findAttemptByIdempotencyKey(db, userId, idempotencyKey);
  if (!stored) throw new ApiError("PAYMENT_IN_PROGRESS");
  return replay(c, stored, fingerprint);
});

paymentAttemptRoutes.get("/payment-attempts", requireSession, async (c) => {
  const { cursor, limit } = validate(listQuery, c.req.query());
  const rows = await listAttempts(createDb(c.env.DB), c.get("user").id, {
    after: cursor ? decodeCursor(cursor) : undefined,
    limit: limit + 1,
  });
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  const nextCursor = rows.length > limit && last ? encodeCursor(last) : null;
  return c.json({ paymentAttempts: page.map(paymentAttemptView), nextCursor });
});

paymentAttemptRoutes.get("/payment-attempts/:id", requireSession, async (c) => {
  const attempt = await findAttempt(createDb(c.env.DB), c.get("user").id, c.req.param("id"));
  if (!attempt) throw new ApiError("PAYMENT_ATTEMPT_NOT_FOUND");
  return c.json({ paymentAttempt: paymentAttemptView(attempt) });
});

/** The answer for a stored attempt: the same for the first request and every retry with the same key and body. */
function replay(c: Context, attempt: PaymentAttemptRow, fingerprint: string): Response {
  if (attempt.requestFingerprint !== fingerprint) throw new ApiError("IDEMPOTENCY_KEY_REUSED");
  return c.json({ paymentAttempt: paymentAttemptView(attempt) }, 201);
}
