import { Hono } from "hono";
import { getAuth } from "../../src/auth/create-auth";
import type { Env } from "../../src/env";
import { handleError, handleNotFound } from "../../src/http/handle-error";

/**
 * The Worker without billing: Better Auth, the health check and the error
 * handler, exactly as src/app.ts mounts them. Never deployed; the bundle check
 * (scripts/check-bundle.ts) builds it to measure what billing adds.
 */
const app = new Hono<{ Bindings: Env }>();
app.get("/health", (c) => c.json({ status: "ok" }));
app.on(["GET", "POST"], "/api/auth/*", (c) => getAuth(c.env).handler(c.req.raw));
app.notFound(handleNotFound);
app.onError(handleError);

export default app;
