import { Hono } from "hono";
import { getAuth } from "./auth/create-auth";
import type { Env } from "./env";
import { handleError, handleNotFound } from "./http/handle-error";
import { billingRoutes } from "./routes/billing";

/** The Worker's HTTP app: Better Auth under /api/auth, billing under /api/billing, a health check. */
export const app = new Hono<{ Bindings: Env }>();

app.get("/health", (c) => c.json({ status: "ok" }));

app.on(["GET", "POST"], "/api/auth/*", (c) => getAuth(c.env).handler(c.req.raw));

app.route("/api/billing", billingRoutes);

app.notFound(handleNotFound);
app.onError(handleError);
