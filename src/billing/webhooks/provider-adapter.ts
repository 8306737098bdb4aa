import type { Env } from "../../env";
import type { BillingEvent } from "./billing-event";

/**
 * What billing needs from one payment provider's webhooks. Adding a provider
 * means writing one of these and listing it in `webhook-providers.ts`.
 *
 * @example
 * ```ts
 * const adapter = findWebhookProvider("gocardless")
 * if (!(await adapter.verify(request.headers, rawBody, adapter.secrets(env)))) throw …
 * const events = adapter.parseEvents(rawBody)
 * ```
 */
export interface WebhookProviderAdapter {
  /** The URL segment (`/api/billing/webhooks/<name>`) and the `provider` column value. */
  readonly name: string;
  /** The signing secrets configured for this provider (empty when none is). */
  secrets(env: Env): string[];
  /**
   * Whether the provider signed this body, in the provider's own scheme. Must
   * compare in constant time. (Replays are refused by the processed-events
   * ledger, not here.)
   */
  verify(headers: Headers, rawBody: string, secrets: readonly string[]): Promise<boolean>;
  /**
   * The events of a verified body, with values as sent; throws BillingError
   * VALIDATION_FAILED only for a body of another shape. Values the database
   * would refuse are left to normaliseBillingEvent, which handles one event
   * without failing the delivery.
   */
  parseEvents(rawBody: string): BillingEvent[];
}
