import { GoCardlessApiError } from "./gocardless-api-error";
import type { GoCardlessClient, GoCardlessMandate } from "./gocardless-client";

/** GoCardless's mandate ids: `MD` and upper-case letters and digits (`MD000ZTEXWE3T0`). */
export const MANDATE_ID = /^MD[0-9A-Z]{1,40}$/;

/**
 * Whose mandate this is, as GoCardless says: the mandate (`GET /mandates/:id`'s
 * answer, its status included) when its `links.customer` is `customerId` (the
 * customer the app created for the user); `customer_missing` when the user has
 * no customer (nothing is asked); `mandate_not_yours` when the mandate belongs
 * to another customer, GoCardless does not know it, or the id is not a
 * GoCardless mandate id (nothing asked) (one answer for all, so the check
 * reveals nothing about other users' mandates, their status included). Any
 * other provider error is thrown.
 *
 * @example
 * ```ts
 * const mandate = await mandateOwner(client, mandateId, customer?.customerId)
 * if (typeof mandate === "string") refuse(mandate)
 * ```
 */
export async function mandateOwner(
  client: Pick<GoCardlessClient, "getMandate">,
  mandateId: string,
  customerId: string | null | undefined,
): Promise<GoCardlessMandate | "customer_missing" | "mandate_not_yours"> {
  if (!customerId) return "customer_missing";
  // Only GoCardless's id shape goes into its URL: ".", ".." or "?…" would make
  // another request of the path (the list of mandates, the API root).
  if (!MANDATE_ID.test(mandateId)) return "mandate_not_yours";
  try {
    const mandate = await client.getMandate(mandateId);
    return mandate.links?.customer === customerId ? mandate : "mandate_not_yours";
  } catch (error) {
    if (error instanceof GoCardlessApiError && error.status === 404) return "mandate_not_yours";
    throw error;
  }
}
