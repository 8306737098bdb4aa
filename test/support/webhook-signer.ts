import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { callWorker } from "./auth-session";
import { callAppConcurrently, seenResponseBodies } from "./billing-api";

/**
 * Signs webhook bodies the way GoCardless does, written independently of
 * src/ (so a bug in the Worker's verifier cannot agree with itself):
 * `Webhook-Signature: <hex HMAC-SHA256 of the raw body>` under the endpoint's
 * secret. Checked against GoCardless's published example in
 * gocardless-webhook-signature.test.ts.
 */
export async function signatureHeader(rawBody: string, options: { secret?: string } = {}): Promise<string> {
  const secret = options.secret ?? env.WEBHOOK_SECRET_GOCARDLESS!;
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(rawBody)));
  return Array.from(mac, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** A GoCardless-style event, as the provider would send it. */
export type GoCardlessEvent = Record<string, unknown> & { id: string };

let nextEvent = 1;
function eventId(): string {
  return `EV${String(nextEvent++).padStart(6, "0")}${crypto.randomUUID().slice(0, 8).toUpperCase()}`;
}

/** `payments.confirmed` for one of our attempts (its id travels in the payment's metadata). */
export function paymentConfirmed(attemptId: string, paymentId = `PM${crypto.randomUUID().slice(0, 10)}`): GoCardlessEvent {
  return {
    id: eventId(),
    created_at: new Date().toISOString(),
    resource_type: "payments",
    action: "confirmed",
    details: { origin: "gocardless", cause: "payment_confirmed", description: "Payment was confirmed as collected" },
    links: { payment: paymentId },
    resource_metadata: { payment_attempt_id: attemptId },
  };
}

/** `payments.failed` with GoCardless's cause and description. */
export function paymentFailed(attemptId: string, cause = "insufficient_funds", paymentId = `PM${crypto.randomUUID().slice(0, 10)}`): GoCardlessEvent {
  return {
    id: eventId(),
    created_at: new Date().toISOString(),
    resource_type: "payments",
    action: "failed",
    details: { origin: "bank", cause, description: "The customer's account had insufficient funds to make this payment.", scheme: "sepa_core", reason_code: "AM04" },
    links: { payment: paymentId },
    resource_metadata: { payment_attempt_id: attemptId },
  };
}

/** `payments.<action>` for one of our attempts, shaped like GoCardless's event reference. */
export function paymentEvent(action: string, attemptId: string, paymentId: string, cause = `payment_${action}`): GoCardlessEvent {
  return {
    id: eventId(),
    created_at: new Date().toISOString(),
    resource_type: "payments",
    action,
    details: { origin: "bank", cause, description: `The payment was ${action.replace(/_/g, " ")}.` },
    links: { payment: paymentId },
    resource_metadata: { payment_attempt_id: attemptId },
  };
}

/**
 * The events as GoCardless stamps them when they happen in this order: each
 * `created_at` one second after the one before, the first at `first` (default:
 * so the last is at the first event's own: GoCardless never stamps an event in the
 * future, and the Worker counts a future stamp as the time it arrived). Deliver
 * them in any order to play arrival out of order.
 *
 * @example
 * ```ts
 * const [confirmed, failed] = happenedInOrder(paymentEvent("confirmed", a, pm), paymentEvent("failed", a, pm))
 * await sendWebhook([failed]); await sendWebhook([confirmed])
 * ```
 */
export function happenedInOrder(events: GoCardlessEvent[], first = Date.parse(String(events[0]?.created_at)) - (events.length - 1) * 1000): GoCardlessEvent[] {
  return events.map((event, i) => ({ ...event, created_at: new Date(first + i * 1000).toISOString() }));
}

/** `mandates.<action>` for a mandate id (the plain token a user stored); `links` adds e.g. `new_mandate`. */
export function mandateEvent(mandateId: string, action: string, links: Record<string, string> = {}): GoCardlessEvent {
  return {
    id: eventId(),
    created_at: new Date().toISOString(),
    resource_type: "mandates",
    action,
    details: { origin: "bank", cause: `mandate_${action}`, description: `The mandate is ${action}.` },
    links: { mandate: mandateId, ...links },
  };
}

/**
 * POSTs events to the GoCardless webhook, signed (or as `options` say);
 * the response body is kept in `seenResponseBodies` too.
 *
 * @example
 * ```ts
 * const response = await sendWebhook([mandateEvent("MD0001", "active")])
 * ```
 */
export async function sendWebhook(
  events: GoCardlessEvent[],
  options: { secret?: string; signature?: string | null; rawBody?: string; provider?: string; concurrent?: boolean } = {},
): Promise<Response> {
  const rawBody = options.rawBody ?? JSON.stringify({ events });
  const signature = options.signature === undefined ? await signatureHeader(rawBody, options) : options.signature;
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (signature !== null) headers["Webhook-Signature"] = signature;
  const call = options.concurrent ? callAppConcurrently : callWorker;
  const response = await call(`/api/billing/webhooks/${options.provider ?? "gocardless"}`, { method: "POST", body: rawBody, headers });
  seenResponseBodies.push(await response.clone().text());
  return response;
}

/**
 * Sends each event in a delivery of its own, as GoCardless does when they happen
 * apart; expects 200 for each and returns their outcomes in order.
 *
 * @example
 * ```ts
 * expect(await deliverEach(mandateEvent("MD0001", "active"))).toEqual(["applied"])
 * ```
 */
export async function deliverEach(...events: GoCardlessEvent[]): Promise<string[]> {
  const outcomes: string[] = [];
  for (const event of events) {
    const response = await sendWebhook([event]);
    expect(response.status).toBe(200);
    outcomes.push(((await response.json()) as any).results[0].outcome);
  }
  return outcomes;
}
