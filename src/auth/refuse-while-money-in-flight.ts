import type { User } from "better-auth";
import { APIError } from "better-auth/api";
import { findMoneyInFlight, hasMoneyInFlight } from "../billing/money-in-flight.repository";
import { getDb } from "../db/get-db";
import type { Env } from "../env";

/**
 * Better Auth's `user.deleteUser.beforeDelete`: refuses (409
 * `PAYMENT_IN_FLIGHT`) while the user has a payment pending at the provider,
 * money owed back, or a subscription that would still collect — deleting the
 * user would cascade those records away while money moves. The check and the
 * delete are separate D1 calls; the `user_delete_keeps_money` trigger makes
 * the refusal atomic with the delete itself.
 *
 * Better Auth answers an APIError with its body as JSON: the API's one error
 * shape, `{"error": {code, message, details}}`, plus the top-level `code` and
 * `message` that Better Auth's own client reads (`error.code`), as for every
 * other `/api/auth` error.
 *
 * @example
 * ```ts
 * betterAuth({ user: { deleteUser: { enabled: true, beforeDelete: refuseWhileMoneyInFlight(env) } } })
 * ```
 */
export function refuseWhileMoneyInFlight(env: Env): (user: User) => Promise<void> {
  return async (user) => {
    const money = await findMoneyInFlight(getDb(env.DB), user.id).catch((error: unknown) => {
      // A database migrated only to the auth baseline has no billing tables,
      // so no money to protect (and no trigger either): deleting is fine.
      if (/no such table: (payment_attempts|user_subscriptions)/.test(String(error))) return undefined;
      throw error;
    });
    if (!money || !hasMoneyInFlight(money)) return;
    const error = {
      code: "PAYMENT_IN_FLIGHT",
      message:
        "This account still has money in flight: cancel its subscriptions (POST /api/billing/subscriptions/:id/cancel), wait for pending payments to settle, and have an operator settle refunds due, then delete it.",
    };
    throw new APIError("CONFLICT", { ...error, error: { ...error, details: money } });
  };
}
