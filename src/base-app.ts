import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { secureHeaders } from "hono/secure-headers";
import { getAuth } from "./auth/create-auth";
import type { Env } from "./env";
import { ApiError } from "./http/api-error";
import { dropUnreadableSessionCache } from "./http/drop-unreadable-session-cache";
import { handleError, handleNotFound } from "./http/handle-error";
import { noStore } from "./http/no-store";
import { requireSecrets } from "./http/require-secrets";
import { MAX_JSON_BODY_BYTES } from "./http/read-json-body";

/**
 * The Worker without billing: a health check, the `/api` hardening, Better
 * Auth under /api/auth, one not-found and one error handler. `src/app.ts`
 * mounts billing on it; the bundle check builds it alone to measure what
 * billing adds.
 *
 * @example
 * ```ts
 * const app = createBaseApp()
 * app.route("/api/billing", billingRoutes)
 * ```
 */
export function createBaseApp(): Hono<{ Bindings: Env }> {
  const app = new Hono<{ Bindings: Env }>();

  app.get("/health", (c) => c.json({ status: "ok" }));

  // Private, per-user answers: never cached, never sniffed into another type.
  app.use("/api/*", noStore, secureHeaders(), requireSecrets, dropUnreadableSessionCache);

  // Better Auth reads whole bodies itself; the same limit as billing's JSON routes
  // (streamed bodies without Content-Length are counted as they arrive).
  app.on(
    ["GET", "POST"],
    "/api/auth/*",
    bodyLimit({ maxSize: MAX_JSON_BODY_BYTES, onError: () => { throw new ApiError("PAYLOAD_TOO_LARGE"); } }),
    (c) => getAuth(c.env).handler(c.req.raw),
  );

  app.notFound(handleNotFound);
  app.onError(handleError);
  return app;
}
