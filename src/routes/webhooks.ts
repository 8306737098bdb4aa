import { Hono } from "hono";
import { loadTokenKeyring } from "../billing/token-cipher";
import { loadFingerprintKey } from "../billing/token-fingerprint";
import { applyBillingDelivery } from "../billing/webhooks/apply-billing-delivery";
import { findWebhookProvider } from "../billing/webhooks/webhook-providers";
import { getDb } from "../db/get-db";
import type { Env } from "../env";
import { ApiError } from "../http/api-error";
import { utf8Text } from "../http/read-json-body";

/** GoCardless sends at most 250 events per request; this leaves ample room. */
const MAX_WEBHOOK_BYTES = 1024 * 1024;

/**
 * `POST /api/billing/webhooks/:provider`: payment outcomes and mandate changes
 * from a provider. No session: the body's signature is the authentication
 * (498 INVALID_SIGNATURE, GoCardless's rule, when it is missing or wrong,
 * and nothing changes; a replayed event is a duplicate in the ledger). Each event is applied once; redeliveries answer 200.
 * An event that other writes keep overtaking (or whose write the database
 * refuses on every try) answers 500 with it unrecorded, so the provider
 * redelivers it (see applyBillingEvent); the delivery's other events apply
 * first, and are duplicates then. An event whose values the database would
 * refuse never does: its text is clamped, or it is recorded as ignored
 * (normaliseBillingEvent).
 */
export const webhookRoutes = new Hono<{ Bindings: Env }>();

webhookRoutes.post("/:provider", async (c) => {
  const adapter = findWebhookProvider(c.req.param("provider"));
  if (!adapter) throw new ApiError("NOT_FOUND", { message: `No webhook provider '${c.req.param("provider")}'.` });
  const secrets = adapter.secrets(c.env);
  if (secrets.length === 0) throw new ApiError("WEBHOOK_NOT_CONFIGURED");

  if (Number(c.req.header("content-length") ?? 0) > MAX_WEBHOOK_BYTES) throw new ApiError("PAYLOAD_TOO_LARGE");
  const rawBody = await c.req.arrayBuffer();
  if (rawBody.byteLength > MAX_WEBHOOK_BYTES) throw new ApiError("PAYLOAD_TOO_LARGE");
  const now = new Date();
  // The signature is over the bytes received: decoded first, a BOM or a byte that is not UTF-8 would be signed text that was never sent.
  if (!(await adapter.verify(c.req.raw.headers, rawBody, secrets))) throw new ApiError("INVALID_SIGNATURE");
  // Signed bytes that are not UTF-8 are refused (400, nothing recorded), never read as U+FFFD.
  const events = adapter.parseEvents(utf8Text(rawBody));
  const context = {
    db: getDb(c.env.DB),
    d1: c.env.DB,
    provider: adapter.name,
    fingerprintKey() {
      return loadFingerprintKey(c.env.TOKEN_FINGERPRINT_KEY);
    },
    keyring() {
      return loadTokenKeyring(c.env.TOKEN_ENCRYPTION_KEYS);
    },
    now,
  };
  const results = await applyBillingDelivery(context, events);
  return c.json({ received: events.length, results });
});
