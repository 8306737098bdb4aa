import { createMiddleware } from "hono/factory";
import { getAuth } from "../auth/create-auth";
import { ApiError } from "./api-error";
import type { SessionEnv } from "./session-env";
import { assertTrustedOrigin } from "./trusted-origin";

/**
 * Middleware: requires a Better Auth session (its cookie) and puts the user
 * on the context; without one the request ends as 401 UNAUTHENTICATED. The
 * session of a read comes from Better Auth's cookie cache when fresh (no D1
 * call), a write's always from D1; a refreshed cache cookie is passed on to
 * the response. A
 * write carrying the cookie from an untrusted origin ends as 403
 * UNTRUSTED_ORIGIN first (see assertTrustedOrigin).
 *
 * @example
 * ```ts
 * const routes = new Hono<SessionEnv>().use(requireSession)
 * routes.get("/", (c) => c.json({ me: c.get("user").id }))
 * ```
 */
export const requireSession = createMiddleware<SessionEnv>(async (c, next) => {
  await assertTrustedOrigin(c.req.raw, c.env);
  // returnHeaders: when the session cookie cache was stale, Better Auth read
  // D1 and set a fresh cache cookie; dropping it would send every later
  // request of this client back to D1.
  // A write is checked against D1, never the cache: within the cache's maxAge
  // a signed-out session or a deleted user would otherwise still write (and a
  // deleted user's write fails on the foreign key as a 500).
  const write = c.req.method !== "GET" && c.req.method !== "HEAD";
  const { headers, response: session } = await getAuth(c.env).api.getSession({
    headers: c.req.raw.headers,
    query: write ? { disableCookieCache: true } : undefined,
    returnHeaders: true,
  });
  for (const cookie of headers.getSetCookie()) c.header("set-cookie", cookie, { append: true });
  if (!session) throw new ApiError("UNAUTHENTICATED");
  c.set("user", { id: session.user.id, email: session.user.email, emailVerified: session.user.emailVerified });
  await next();
});
