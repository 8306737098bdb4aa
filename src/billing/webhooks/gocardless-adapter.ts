import * as z from "zod";
import { BillingError } from "../billing-error";
import { validate } from "../validate";
import type { BillingEvent, PaymentEvent } from "./billing-event";
import type { WebhookProviderAdapter } from "./provider-adapter";
import { verifyGoCardlessSignature } from "./gocardless-signature";
import { MANDATE_ID } from "../gocardless/mandate-owner";

/** The header carrying GoCardless's signature: the hex HMAC-SHA256 of the raw body. */
export const GOCARDLESS_SIGNATURE_HEADER = "Webhook-Signature";

// GoCardless's webhook body: `{ "events": [...] }`, up to 250 events per
// request. Provider payloads grow new fields over time, so unknown fields are
// ignored here (unlike our own API, which refuses them). Only the envelope is
// checked here (an events array of objects): anything else is 400. One odd
// event never refuses its delivery (GoCardless would redeliver the whole of it,
// and the other events would never apply): values the database would refuse
// (no string id, an empty or over-long one, NUL, long text) are left to
// normaliseBillingEvent, which ignores or clamps that one event.
const anything = z.unknown().optional();
const eventSchema = z.object({
  id: anything,
  resource_type: anything,
  action: anything,
  // When it happened: what orders one payment's events (moneyEvent), and one mandate's (mandateEvent).
  created_at: anything.transform(isoTime),
  // GoCardless sends some of these as null (details.cause, details.description,
  // resource_metadata): any value that is not an object of strings loses its
  // non-string parts instead of refusing the delivery.
  links: anything.transform(stringsOf),
  details: anything.transform(stringsOf),
  // GoCardless copies the resource's metadata into each event; we put our attempt id there.
  resource_metadata: anything.transform(stringsOf),
});
const bodySchema = z.object({ events: z.array(eventSchema).min(1).max(250) });
type GoCardlessEvent = z.output<typeof eventSchema>;

/**
 * GoCardless's payment actions → normalised kinds. A `failed` after
 * `confirmed`/`paid_out` is a late failure: the same event, which
 * applyBillingEvent tells apart by the attempt's state (and applies as a
 * reversal). A chargeback takes collected money back; its cancellation
 * gives it back.
 */
const PAYMENT_KINDS = {
  submitted: "payment_submitted",
  confirmed: "payment_succeeded",
  // paid_out follows confirmed; when confirmed was lost or comes later it still settles the attempt.
  paid_out: "payment_succeeded",
  failed: "payment_failed",
  cancelled: "payment_canceled",
  resubmission_requested: "payment_resubmission_requested",
  charged_back: "payment_reversed",
  chargeback_cancelled: "payment_reinstated",
  // Not late_failure_settled: it settles a `failed` that GoCardless also sends, and it may come
  // after a resubmission's `confirmed`, which it does not take back (docs/gocardless.md, "Out of order").
  chargeback_settled: "payment_reversal_settled",
} as const satisfies Record<string, PaymentEvent["kind"]>;

/** The kinds that carry GoCardless's `details.cause` / `details.description` (else the action, as the engine's API-learnt events say it). */
const FAILURE_KINDS: readonly string[] = ["payment_failed", "payment_canceled", "payment_reversed", "payment_reversal_settled"] satisfies PaymentEvent["kind"][];

/** GoCardless's mandate actions → the token status each leaves (transferred changes none). */
const MANDATE_CHANGES = {
  active: { status: "active" },
  // Active again after it was cancelled or expired (a newer event than that end: mandateEvent).
  reinstated: { status: "active" },
  cancelled: { status: "revoked" },
  failed: { status: "failed" },
  // Blocked (e.g. the payer's details are on a block list): it can never be charged.
  blocked: { status: "failed" },
  expired: { status: "expired" },
  // A one-off mandate that was used: no further payment can be taken on it.
  consumed: { status: "expired" },
  // Cancelled and replaced by links.new_mandate: the token is re-pointed at that one (mandateChanged);
  // without a usable links.new_mandate this id can no longer be charged.
  replaced: { status: "expired" },
} as const satisfies Record<string, Pick<Extract<BillingEvent, { kind: "mandate_changed" }>, "status">>;

/**
 * GoCardless (direct debit), as this API models it:
 * - payments: `submitted`, `confirmed`, `paid_out`, `failed` (late when after
 *   `confirmed`), `cancelled`, `resubmission_requested`, `charged_back`,
 *   `chargeback_cancelled`, `chargeback_settled` (`late_failure_settled` is recorded only)
 *   (see PAYMENT_KINDS; `details.cause` → failureCode, `details.description`
 *   → failureMessage);
 * - mandates: `active`, `reinstated`, `cancelled`, `failed`, `blocked`,
 *   `expired`, `consumed` → token status; `replaced` → the token re-pointed at
 *   `links.new_mandate` (expired without one); `transferred`;
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
  secrets(env) {
    return (env.WEBHOOK_SECRET_GOCARDLESS ?? "").split(",").map((secret) => secret.trim()).filter(Boolean);
  },
  verify(headers, rawBody, secrets) {
    return verifyGoCardlessSignature(headers.get(GOCARDLESS_SIGNATURE_HEADER), rawBody, secrets);
  },
  parseEvents(rawBody) {
    let json: unknown;
    try {
      json = JSON.parse(rawBody);
    } catch {
      throw new BillingError("INVALID_JSON");
    }
    return validate(bodySchema, json).events.map(toBillingEvent);
  },
};

/** A time as the database stores it (`YYYY-MM-DDTHH:MM:SS.sssZ`), or undefined for anything else. */
function isoTime(value: unknown): string | undefined {
  const time = Date.parse(value as string);
  // 1970 to 9892 only: toISOString writes years past 9999 as +YYYYYY, which the column refuses.
  return time >= 0 && time < 2.5e14 ? new Date(time).toISOString() : undefined;
}

/** The string-valued own fields of an object; `{}` for anything else (null, a string, an array). */
function stringsOf(value: unknown): Record<string, string> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return {};
  return Object.fromEntries(Object.entries(value).filter((entry): entry is [string, string] => typeof entry[1] === "string"));
}

function toBillingEvent(event: GoCardlessEvent): BillingEvent {
  // Any value: only a known string action matches the tables below (own keys, checked with hasOwn).
  const action = event.action as string;
  const eventType = `${event.resource_type}.${action}`;
  // Without a string id the event can only be told by its content: NUL makes it an id that
  // cannot be stored, so it is recorded under a stand-in hashed from it (normaliseBillingEvent).
  const base = { eventId: typeof event.id === "string" ? event.id : `\0${JSON.stringify(event)}`, eventType, occurredAt: event.created_at };
  // Own keys only: `"constructor" in PAYMENT_KINDS` is true through the prototype.
  if (event.resource_type === "payments" && Object.hasOwn(PAYMENT_KINDS, action)) {
    const kind = PAYMENT_KINDS[action as keyof typeof PAYMENT_KINDS];
    // A missing link is as unusable as an empty one: normaliseBillingEvent ignores the event.
    const payment = { ...base, paymentAttemptId: event.resource_metadata.payment_attempt_id, providerPaymentId: event.links.payment ?? "" };
    if (!FAILURE_KINDS.includes(kind)) return { kind, ...payment } as BillingEvent;
    return {
      kind,
      ...payment,
      failureCode: event.details.cause ?? action,
      failureMessage: event.details.description ?? `GoCardless: payments.${action}`,
    } as BillingEvent;
  }
  if (event.resource_type === "mandates" && action === "transferred") {
    return { kind: "mandate_transferred", ...base, mandateId: event.links.mandate ?? "" };
  }
  if (event.resource_type === "mandates" && Object.hasOwn(MANDATE_CHANGES, action)) {
    const change = MANDATE_CHANGES[action as keyof typeof MANDATE_CHANGES];
    // Only a GoCardless mandate id re-points a token (the engine puts it in a URL path).
    const newMandateId = action === "replaced" && MANDATE_ID.test(event.links.new_mandate ?? "") ? event.links.new_mandate : undefined;
    return { kind: "mandate_changed", ...base, mandateId: event.links.mandate ?? "", ...change, ...(newMandateId !== undefined && { newMandateId }) };
  }
  return { kind: "other", ...base };
}
