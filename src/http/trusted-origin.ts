import { getAuth } from "../auth/create-auth";
import type { Env } from "../env";
import { ApiError } from "./api-error";

/** Methods that change nothing, so a forged cross-site request gains nothing (CORS keeps the answer from it). */
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * CSRF guard for cookie-authenticated writes: the request's `Origin` (or,
 * when a client sends none, its `Referer`) must be one of Better Auth's
 * trusted origins (`BETTER_AUTH_URL`'s origin plus `trustedOrigins`) —
 * the same rule Better Auth applies to its own routes. Otherwise 403
 * UNTRUSTED_ORIGIN. Requests without a cookie are left alone: without the
 * cookie there is no session to ride on.
 *
 * Why not rely on SameSite=Lax: it is per *site*, so any page on a sibling
 * subdomain can post a form with the cookie, and routes without a JSON body
 * or a custom header (set a default token, deactivate a plan, resume) would accept it.
 *
 * @example
 * ```ts
 * await assertTrustedOrigin(c.req.raw, c.env) // before reading the session
 * ```
 */
export async function assertTrustedOrigin(request: Request, env: Env): Promise<void> {
  if (SAFE_METHODS.has(request.method) || !request.headers.has("cookie")) return;
  const origin = request.headers.get("origin") || request.headers.get("referer") || "";
  // "null" is an opaque origin (sandboxed frame, cross-origin redirect): nobody to trust.
  if (origin === "" || origin === "null") throw new ApiError("UNTRUSTED_ORIGIN");
  const context = await getAuth(env).$context;
  if (!context.isTrustedOrigin(origin)) throw new ApiError("UNTRUSTED_ORIGIN");
}
