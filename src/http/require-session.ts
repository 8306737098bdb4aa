import { createMiddleware } from "hono/factory";
import { getAuth } from "../auth/create-auth";
import { ApiError } from "./api-error";
import type { SessionEnv } from "./session-env";

/**
 * Middleware: requires a Better Auth session (its cookie) and puts the user
 * on the context; without one the request ends as 401 UNAUTHENTICATED.
 *
 * @example
 * ```ts
 * const routes = new Hono<SessionEnv>().use(requireSession)
 * routes.get("/", (c) => c.json({ me: c.get("user").id }))
 * ```
 */
export const requireSession = createMiddleware<SessionEnv>(async (c, next) => {
  const session = await getAuth(c.env).api.getSession({ headers: c.req.raw.headers });
  if (!session) throw new ApiError("UNAUTHENTICATED");
  c.set("user", { id: session.user.id, email: session.user.email, emailVerified: session.user.emailVerified });
  await next();
});
