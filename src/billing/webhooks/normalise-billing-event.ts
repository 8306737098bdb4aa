import { encodeHex } from "../base64";
import { BILLING_LIMITS as L } from "../../db/billing-limits";
import { isStorableText, storableText } from "../../db/storable-text";
import { isPaymentEvent, type BillingEvent } from "./billing-event";

/**
 * Makes a verified event fit the billing tables before anything is written,
 * whatever the provider sent: a value the database refuses would fail the
 * event's batch on every try, answer 500, and the provider would redeliver
 * the whole delivery forever, so the events after it would never apply.
 *
 * - Free text (`failureCode`, `failureMessage`, `eventType`) loses its NUL
 *   characters and lone surrogates and is cut to the column's limit.
 * - An id that cannot be valid (empty, too long, NUL, a lone surrogate) cannot be matched or
 *   stored as sent: the event becomes `unusable` (recorded as ignored). An
 *   unusable *event* id is recorded under a stand-in, `sha256:<hex of the id>`,
 *   so a redelivery is still recognised as a duplicate.
 *
 * @example
 * ```ts
 * const event = await normaliseBillingEvent(adapter.parseEvents(rawBody)[0])
 * ```
 */
export async function normaliseBillingEvent(event: BillingEvent): Promise<BillingEvent> {
  const eventType = storableText(event.eventType, L.webhookEventTypeLength, "unknown");
  if (!isProviderId(event.eventId)) {
    return { kind: "unusable", eventId: await standInEventId(event.eventId), eventType, reason: "no storable event id" };
  }
  const normalised = { ...event, eventType };
  if (isPaymentEvent(normalised)) {
    if (!isProviderId(normalised.providerPaymentId)) return unusable(normalised, "the payment id");
    if (!("failureCode" in normalised)) return normalised;
    return {
      ...normalised,
      failureCode: storableText(normalised.failureCode, L.failureCodeLength, "unknown"),
      failureMessage: storableText(normalised.failureMessage, L.failureMessageLength, "unknown"),
    };
  }
  switch (normalised.kind) {
    case "mandate_changed":
    case "mandate_transferred":
      return isProviderId(normalised.mandateId) ? normalised : unusable(normalised, "the mandate id");
    default:
      return normalised;
  }
}

function isProviderId(id: string): boolean {
  return isStorableText(id, 1, L.providerIdLength);
}

function unusable(event: BillingEvent, what: string): BillingEvent {
  return { kind: "unusable", eventId: event.eventId, eventType: event.eventType, reason: `${what} is empty, too long or not storable text` };
}

async function standInEventId(eventId: string): Promise<string> {
  return `sha256:${encodeHex(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(eventId))))}`;
}
