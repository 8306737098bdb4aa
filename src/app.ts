import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { secureHeaders } from "hono/secure-headers";
import { getAuth } from "./auth/create-auth";
import type { Env } from "./env";
import { ApiError } from "./http/api-error";
import { handleError, handleNotFound } from "./http/handle-error";
import { noStore } from "./http/no-store";
import { requireSecrets } from "./http/require-secrets";
import { MAX_JSON_BODY_BYTES } from "./http/read-json-body";
import { billingRoutes } from "./routes/billing";

/** The Worker's HTTP app: Better Auth under /api/auth, billing under /api/billing, a health check. */
export const app = new Hono<{ Bindings: Env }>();

app.get("/health", (c) => c.json({ status: "ok" }));

// Private, per-user answers: never cached, never sniffed into another type.
app.use("/api/*", noStore, secureHeaders(), requireSecrets);

// Better Auth reads whole bodies itself; the same limit as billing's JSON routes
// (streamed bodies without Content-Length are counted as they arrive).
app.on(
  ["GET", "POST"],
  "/api/auth/*",
  bodyLimit({ maxSize: MAX_JSON_BODY_BYTES, onError: () => { throw new ApiError("PAYLOAD_TOO_LARGE"); } }),
  (c) => getAuth(c.env).handler(c.req.raw),
);

app.route("/api/billing", billingRoutes);

app.notFound(handleNotFound);
app.onError(handleError);
