import * as z from "zod";
import { ApiError } from "../../http/api-error";
import { validate } from "../../http/validate";
import type { BillingEvent } from "./billing-event";
import type { WebhookProviderAdapter } from "./provider-adapter";
import { verifyWebhookSignature } from "./webhook-signature";

/** The header carrying the signature (GoCardless's name; the value uses Stripe's `t=…,v1=…` scheme). */
export const GOCARDLESS_SIGNATURE_HEADER = "Webhook-Signature";

// GoCardless's webhook body: `{ "events": [...] }`, up to 250 events per
// request. Provider payloads grow new fields over time, so unknown fields are
// ignored here (unlike our own API, which refuses them). Only the shape is
// checked here: a body of another shape is 400, but values the database
// would refuse (an empty or over-long id, NUL, long text) are left to
// normaliseBillingEvent, which ignores or clamps that one event instead of
// refusing its whole delivery.
const eventSchema = z.object({
  id: z.string(),
  created_at: z.string().optional(),
  resource_type: z.string(),
  action: z.string(),
  links: z.record(z.string(), z.string()).default({}),
  details: z.object({ cause: z.string().optional(), description: z.string().optional() }).default({}),
  // GoCardless copies the resource's metadata into each event; we put our attempt id there.
  resource_metadata: z.record(z.string(), z.unknown()).optional(),
});
const bodySchema = z.object({ events: z.array(eventSchema).min(1).max(250) });
type GoCardlessEvent = z.output<typeof eventSchema>;

const MANDATE_STATUS = { active: "active", cancelled: "revoked", failed: "failed", expired: "expired" } as const;

/**
 * GoCardless (direct debit), as this API models it:
 * - `payments.confirmed` → payment succeeded; `payments.failed` → failed
 *   (`details.cause` → failureCode, `details.description` → failureMessage);
 * - `mandates.active | cancelled | failed | expired` → token status;
 * - anything else is recorded and acknowledged.
 * Payments are matched by `links.payment`, or first by
 * `resource_metadata.payment_attempt_id`; mandates by `links.mandate`. The
 * events come out as sent: applyBillingEvent normalises them.
 *
 * @example
 * ```ts
 * const events = gocardlessAdapter.parseEvents('{"events":[{"id":"EV1","resource_type":"mandates","action":"active","links":{"mandate":"MD1"}}]}')
 * ```
 */
export const gocardlessAdapter: WebhookProviderAdapter = {
  name: "gocardless",
  secrets: (env) => (env.WEBHOOK_SECRET_GOCARDLESS ?? "").split(",").map((secret) => secret.trim()).filter(Boolean),
  verify: (headers, rawBody, secrets, now) =>
    verifyWebhookSignature({ header: headers.get(GOCARDLESS_SIGNATURE_HEADER) ?? undefined, rawBody, secrets, now }),
  parseEvents(rawBody) {
    let json: unknown;
    try {
      json = JSON.parse(rawBody);
    } catch {
      throw new ApiError("INVALID_JSON");
    }
    return validate(bodySchema, json).events.map(toBillingEvent);
  },
};

function toBillingEvent(event: GoCardlessEvent): BillingEvent {
  const eventType = `${event.resource_type}.${event.action}`;
  const base = { eventId: event.id, eventType };
  if (event.resource_type === "payments" && (event.action === "confirmed" || event.action === "failed")) {
    // A missing link is as unusable as an empty one: normaliseBillingEvent ignores the event.
    const providerPaymentId = event.links.payment ?? "";
    const attemptId = event.resource_metadata?.payment_attempt_id;
    const paymentAttemptId = typeof attemptId === "string" ? attemptId : undefined;
    if (event.action === "confirmed") return { kind: "payment_succeeded", ...base, paymentAttemptId, providerPaymentId };
    return {
      kind: "payment_failed",
      ...base,
      paymentAttemptId,
      providerPaymentId,
      failureCode: event.details.cause ?? "failed",
      failureMessage: event.details.description ?? "The payment failed.",
    };
  }
  // Own keys only: `"constructor" in MANDATE_STATUS` is true through the prototype.
  if (event.resource_type === "mandates" && Object.hasOwn(MANDATE_STATUS, event.action)) {
    const status = MANDATE_STATUS[event.action as keyof typeof MANDATE_STATUS];
    return { kind: "mandate_changed", ...base, mandateId: event.links.mandate ?? "", status };
  }
  return { kind: "other", ...base };
}
