import { Hono, type Context } from "hono";
import * as z from "zod";
import { paymentAttemptView } from "../billing/api-views";
import { billingIdSchema } from "../db/column-schemas";
import { newPaymentAttempt } from "../billing/new-payment-attempt";
import {
  findAttempt,
  findAttemptByIdempotencyKey,
  insertAttemptIfIdle,
  listAttempts,
} from "../billing/payment-attempts.repository";
import { sameDueState } from "../billing/payment-due";
import { requestFingerprint } from "../billing/request-fingerprint";
import { settleSubscription } from "../billing/subscription-lifecycle.repository";
import type { SubscriptionWithPlan } from "../billing/subscriptions.repository";
import { getDb } from "../db/get-db";
import type { PaymentAttemptRow } from "../db/billing-rows";
import { ApiError } from "../http/api-error";
import { readIdempotencyKey } from "../http/idempotency-key";
import { readPage } from "../http/page-query";
import { readJsonBody } from "../http/read-json-body";
import { requireSession } from "../http/require-session";
import type { SessionEnv } from "../http/session-env";

/**
 * The only field a user may send: which of their tokens to charge. Amount,
 * currency and outcome are not fields at all, so `amountMinor` & co. are 400.
 */
export const createAttemptBody = z.strictObject({ directDebitTokenId: billingIdSchema.optional() });

/** How often a payment start re-reads a subscription that keeps changing under it before giving up. */
const START_TRIES = 3;

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
  const db = getDb(c.env.DB);

  // A retry replays the first answer before anything else is checked: even
  // when its payment has since settled and nothing is due any more.
  const earlier = await findAttemptByIdempotencyKey(db, userId, idempotencyKey);
  if (earlier) return replay(c, earlier, fingerprint);

  // Optimistic, like cancel: the insert applies only while the subscription is
  // still as read. When it moved meanwhile (typically the open attempt's
  // payment settled and advanced the period), decide again from the fresh row.
  let previous: SubscriptionWithPlan | undefined;
  for (let tries = 0; tries < START_TRIES; tries++) {
    // Time events due by now first: an expired or lapsed subscription is judged as it really is.
    const subscription = await settleSubscription(c.env.DB, userId, c.req.param("id"), null, new Date());
    if (!subscription) throw new ApiError("SUBSCRIPTION_NOT_FOUND");
    // Unchanged, yet the insert did nothing: an open attempt stopped it.
    if (previous && sameDueState(previous, subscription)) throw new ApiError("PAYMENT_IN_PROGRESS");
    previous = subscription;
    const attempt = await newPaymentAttempt(db, userId, subscription, { directDebitTokenId: body.directDebitTokenId, idempotencyKey, fingerprint });
    await insertAttemptIfIdle(db, attempt, subscription);
    // Whoever inserted, every request with this key now answers from the stored row.
    const stored = await findAttemptByIdempotencyKey(db, userId, idempotencyKey);
    if (stored) return replay(c, stored, fingerprint);
  }
  throw new Error(`subscription ${previous?.id} kept changing while a payment was being started`);
});

paymentAttemptRoutes.get("/payment-attempts", requireSession, async (c) => {
  const { page, nextCursor } = await readPage(c.req.query(), (p) => listAttempts(getDb(c.env.DB), c.get("user").id, p));
  return c.json({ paymentAttempts: page.map(paymentAttemptView), nextCursor });
});

paymentAttemptRoutes.get("/payment-attempts/:id", requireSession, async (c) => {
  const attempt = await findAttempt(getDb(c.env.DB), c.get("user").id, c.req.param("id"));
  if (!attempt) throw new ApiError("PAYMENT_ATTEMPT_NOT_FOUND");
  return c.json({ paymentAttempt: paymentAttemptView(attempt) });
});

/** The answer for a stored attempt: the same for the first request and every retry with the same key and body. */
function replay(c: Context, attempt: PaymentAttemptRow, fingerprint: string): Response {
  if (attempt.requestFingerprint !== fingerprint) throw new ApiError("IDEMPOTENCY_KEY_REUSED");
  return c.json({ paymentAttempt: paymentAttemptView(attempt) }, 201);
}
