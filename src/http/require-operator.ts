import { createMiddleware } from "hono/factory";
import { ApiError } from "./api-error";
import type { SessionEnv } from "./session-env";

/**
 * Middleware (after {@link requireSession}): only operators pass, i.e. users
 * whose e-mail is in `BILLING_OPERATOR_EMAILS` (comma-separated, any case)
 * **and verified** — otherwise anyone could sign up with an operator's
 * address before the operator does. Everyone else gets 403 FORBIDDEN.
 *
 * @example
 * ```ts
 * plans.post("/", requireSession, requireOperator, createPlanHandler)
 * ```
 */
export const requireOperator = createMiddleware<SessionEnv>(async (c, next) => {
  const user = c.get("user");
  if (!user.emailVerified || !isOperatorEmail(c.env.BILLING_OPERATOR_EMAILS, user.email)) {
    throw new ApiError("FORBIDDEN", { message: "Only billing operators may manage plans." });
  }
  await next();
});

/** Whether `email` is in the comma-separated allow-list (case-insensitive). */
export function isOperatorEmail(allowList: string | undefined, email: string): boolean {
  const wanted = email.trim().toLowerCase();
  return (allowList ?? "").split(",").some((entry) => entry.trim().toLowerCase() === wanted && wanted !== "");
}
