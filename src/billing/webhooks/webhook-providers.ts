import { gocardlessAdapter } from "./gocardless-adapter";
import type { WebhookProviderAdapter } from "./provider-adapter";

const PROVIDERS: readonly WebhookProviderAdapter[] = [gocardlessAdapter];

/** Names of the providers with a webhook adapter (also the allowed `provider` of a new token). */
export const WEBHOOK_PROVIDER_NAMES = PROVIDERS.map((provider) => provider.name);

/**
 * The adapter for a provider name from the URL, or undefined.
 *
 * @example
 * ```ts
 * const adapter = findWebhookProvider(c.req.param("provider")) // gocardlessAdapter for "gocardless"
 * ```
 */
export function findWebhookProvider(name: string): WebhookProviderAdapter | undefined {
  return PROVIDERS.find((provider) => provider.name === name);
}
