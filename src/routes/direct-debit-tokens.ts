import { Hono } from "hono";
import * as z from "zod";
import { tokenView } from "../billing/api-views";
import { accountLast4Schema, chars, idempotencyKeySchema } from "../db/column-schemas";
import { BILLING_LIMITS } from "../db/billing-limits";
import { runBatch } from "../billing/d1-batch";
import { createGoCardlessClient } from "../billing/gocardless/gocardless-client";
import { mandateOwner } from "../billing/gocardless/mandate-owner";
import { findProviderCustomer } from "../billing/provider-customers.repository";
import { defaultIfNoneQuery, findToken, insertTokenQuery, listTokens, revokeTokenQueries, setDefaultTokenQueries } from "../billing/direct-debit-tokens.repository";
import { sealToken, loadTokenKeyring } from "../billing/token-cipher";
import { fingerprintToken, loadFingerprintKey } from "../billing/token-fingerprint";
import { WEBHOOK_PROVIDER_NAMES } from "../billing/webhooks/webhook-providers";
import { getDb } from "../db/get-db";
import { ApiError } from "../http/api-error";
import { readPage } from "../http/page-query";
import { noFields, readJsonBody } from "../http/read-json-body";
import { requireSession } from "../http/require-session";
import type { SessionEnv } from "../http/session-env";

/**
 * `POST /direct-debit-tokens` body. `token` is the provider's mandate id (e.g.
 * GoCardless `MD…`); only providers with a webhook adapter are accepted, since
 * a mandate from any other could never become active.
 */
export const createTokenBody = z.strictObject({
  // The stored columns' rules (src/db/row-schemas/direct-debit-tokens.ts), built from the
  // same column schemas rather than picked from the row schema, so the Worker does not
  // bundle the rules of columns no request sends; test/unit/input-schemas-follow-rows.test.ts
  // proves they agree.
  mandateReference: chars(1, BILLING_LIMITS.providerIdLength),
  accountLast4: accountLast4Schema,
  bankName: chars(1, BILLING_LIMITS.bankNameLength).nullish(),
  provider: z.enum(WEBHOOK_PROVIDER_NAMES as [string, ...string[]]),
  token: idempotencyKeySchema,
});


/**
 * `/api/billing/direct-debit-tokens`: the user's direct-debit mandates. The
 * token is stored only AES-GCM encrypted, with a keyed fingerprint for
 * uniqueness, and never leaves the server again.
 *
 * Storing asks GoCardless first (`GET /mandates/:id`): the mandate's
 * `links.customer` must be the customer the app created for this user
 * (`/provider-customers`), else 409 PROVIDER_CUSTOMER_REQUIRED or
 * 403 MANDATE_NOT_YOURS, and nothing is stored; one that can never be charged
 * (failed, cancelled, expired, consumed, blocked) is 409 MANDATE_UNUSABLE.
 *
 * The token takes the mandate's status as GoCardless answers it: `active` (and
 * the default, when the user has none), else `pending` until the provider's
 * mandate-activated webhook makes it so. Only active tokens can become the
 * default or be charged.
 */
export const tokenRoutes = new Hono<SessionEnv>();

tokenRoutes.post("/", requireSession, async (c) => {
  const body = await readJsonBody(c, createTokenBody);
  // Both keys first: with either missing, fail closed before anything is stored.
  const keyring = await loadTokenKeyring(c.env.TOKEN_ENCRYPTION_KEYS);
  const fingerprintKey = await loadFingerprintKey(c.env.TOKEN_FINGERPRINT_KEY);

  const userId = c.get("user").id;
  const db = getDb(c.env.DB);
  // The mandate must be GoCardless's and belong to the customer the app created
  // for this user: a mandate id someone else got hold of is refused, not stored first.
  const customer = await findProviderCustomer(db, userId, body.provider);
  if (!customer) throw new ApiError("PROVIDER_CUSTOMER_REQUIRED");
  const client = createGoCardlessClient({ accessToken: c.env.GOCARDLESS_ACCESS_TOKEN, baseUrl: c.env.GOCARDLESS_API_URL });
  // Taken before asking: GoCardless's answer holds every change of the mandate up to then at least.
  const now = new Date().toISOString();
  const mandate = await mandateOwner(client, body.token, customer.customerId);
  if (typeof mandate === "string") throw new ApiError("MANDATE_NOT_YOURS");
  // GoCardless's mandate statuses (API reference, Mandates): one that can never be charged (it could not be
  // set up, or it ended) is refused; the others are active, on their way to it (pending_customer_approval,
  // pending_submission, submitted: pending until its mandates.active), or suspended by the payer (pending too).
  if (/^(failed|cancelled|expired|consumed|blocked)$/.test(mandate.status)) throw new ApiError("MANDATE_UNUSABLE", { details: { status: mandate.status } });
  const active = mandate.status === "active";

  const id = crypto.randomUUID();
  const sealed = await sealToken(keyring, body.token, id);
  const insert = insertTokenQuery(db, {
    id,
    userId,
    provider: body.provider,
    tokenCiphertext: sealed.ciphertext,
    tokenKeyId: sealed.keyId,
    tokenFingerprint: await fingerprintToken(fingerprintKey, body.provider, body.token),
    mandateReference: body.mandateReference,
    accountLast4: body.accountLast4,
    bankName: body.bankName ?? null,
    status: active ? "active" : "pending",
    isDefault: 0,
    createdAt: now,
    updatedAt: now,
    revokedAt: null,
    // An active mandate may get no event for years: an end that happened before GoCardless's answer, arriving
    // later, is overtaken by it (mandateEvent). A pending one records none: its activation (or failure) is still to come.
    mandateEventAt: active ? now : null,
  });
  // Stored active, it is the default when the user has none, in the same batch.
  const [inserted] = await runBatch(c.env.DB, [insert, defaultIfNoneQuery(db, userId, id)]);
  if (!inserted?.meta.changes) throw new ApiError("TOKEN_EXISTS");
  return c.json({ token: tokenView((await findToken(db, userId, id))!) }, 201);
});

tokenRoutes.get("/", requireSession, async (c) => {
  const { page, nextCursor } = await readPage(c.req.query(), (p) => listTokens(getDb(c.env.DB), c.get("user").id, p));
  return c.json({ tokens: page.map(tokenView), nextCursor });
});

tokenRoutes.get("/:id", requireSession, async (c) => {
  const token = await findToken(getDb(c.env.DB), c.get("user").id, c.req.param("id"));
  if (!token) throw new ApiError("TOKEN_NOT_FOUND");
  return c.json({ token: tokenView(token) });
});

tokenRoutes.post("/:id/default", requireSession, async (c) => {
  await readJsonBody(c, noFields, { emptyAsObject: true });
  const userId = c.get("user").id;
  const id = c.req.param("id");
  const db = getDb(c.env.DB);
  const token = await findToken(db, userId, id);
  if (!token) throw new ApiError("TOKEN_NOT_FOUND");
  if (token.status !== "active") throw new ApiError("TOKEN_NOT_ACTIVE", { details: { status: token.status } });
  // Clearing the old default and setting the new one commit together or not at all.
  const [, set] = await runBatch(c.env.DB, setDefaultTokenQueries(db, userId, id, new Date().toISOString()));
  if (!set?.meta.changes) throw new ApiError("TOKEN_NOT_ACTIVE");
  return c.json({ token: tokenView((await findToken(db, userId, id))!) });
});

tokenRoutes.delete("/:id", requireSession, async (c) => {
  const userId = c.get("user").id;
  const id = c.req.param("id");
  const db = getDb(c.env.DB);
  const token = await findToken(db, userId, id);
  if (!token) throw new ApiError("TOKEN_NOT_FOUND");
  // Revoking twice is harmless: the second call changes nothing and answers the same.
  await runBatch(c.env.DB, revokeTokenQueries(db, userId, id, new Date().toISOString()));
  return c.json({ token: tokenView((await findToken(db, userId, id))!) });
});
