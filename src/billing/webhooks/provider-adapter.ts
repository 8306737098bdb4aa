import type { Env } from "../../env";
import type { BillingEvent } from "./billing-event";

/**
 * What billing needs from one payment provider's webhooks. Adding a provider
 * means writing one of these and listing it in `webhook-providers.ts`.
 *
 * @example
 * ```ts
 * const adapter = findWebhookProvider("gocardless")
 * if (!(await adapter.verify(request.headers, bytes, adapter.secrets(env)))) throw …
 * const events = adapter.parseEvents(new TextDecoder("utf-8", { fatal: true }).decode(bytes))
 * ```
 */
export interface WebhookProviderAdapter {
  /** The URL segment (`/api/billing/webhooks/<name>`) and the `provider` column value. */
  readonly name: string;
  /** The signing secrets configured for this provider (empty when none is). */
  secrets(env: Env): string[];
  /**
   * Whether the provider signed this body (the bytes received), in the provider's own scheme. Must
   * compare in constant time. (Replays are refused by the processed-events
   * ledger, not here.)
   */
  verify(headers: Headers, rawBody: ArrayBuffer, secrets: readonly string[]): Promise<boolean>;
  /**
   * The events of a verified body, with values as sent; throws BillingError
   * VALIDATION_FAILED only for a body of another shape. Values the database
   * would refuse are left to normaliseBillingEvent, which handles one event
   * without failing the delivery.
   */
  parseEvents(rawBody: string): BillingEvent[];
}
