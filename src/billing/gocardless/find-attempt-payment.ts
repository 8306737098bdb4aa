import { DAY_MS } from "../lifecycle/billing-policy";
import { GoCardlessApiError } from "./gocardless-api-error";
import type { GoCardlessClient, GoCardlessPayment } from "./gocardless-client";

/** GoCardless's largest page (`limit`). */
const PAGE = "500";

/**
 * The payment GoCardless holds for one of our attempts, found by the
 * `metadata.payment_attempt_id` every payment we create carries, or undefined
 * when GoCardless has none: asked before an attempt whose submission kept
 * failing is given up, because a `POST /payments` whose answer was lost may
 * have created it. One `GET /payments?mandate=…&limit=500` (the mandate's
 * payments, whatever our clock said when the attempt was created); without a
 * readable mandate, the payments created since a day before the attempt.
 * A full page without a match proves nothing, so it throws, like an error
 * answer: the caller keeps the attempt and asks again later.
 *
 * @example
 * ```ts
 * const existing = await findAttemptPayment(client, attempt.id, mandateId, attempt.createdAt)
 * ```
 */
export async function findAttemptPayment(
  client: Pick<GoCardlessClient, "listPayments">,
  attemptId: string,
  mandateId: string | undefined,
  createdAt: string,
): Promise<GoCardlessPayment | undefined> {
  const listed = await client.listPayments(
    mandateId !== undefined ? { mandate: mandateId, limit: PAGE } : { "created_at[gte]": new Date(Date.parse(createdAt) - DAY_MS).toISOString(), limit: PAGE },
  );
  const found = listed.find((payment) => payment.metadata?.payment_attempt_id === attemptId);
  if (found === undefined && listed.length >= Number(PAGE)) {
    throw new GoCardlessApiError({ status: 0, code: "reconciliation_incomplete", message: "Not in a full page; asked again later." });
  }
  return found;
}
