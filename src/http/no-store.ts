import { createMiddleware } from "hono/factory";

/**
 * Sets `Cache-Control: no-store` on every response it wraps, errors included:
 * API answers are per user or private, and no browser or shared cache may keep
 * them. (Hono's `secureHeaders` does not set Cache-Control.)
 *
 * @example
 * ```ts
 * app.use("/api/*", noStore)
 * ```
 */
export const noStore = createMiddleware(async (c, next) => {
  await next();
  c.res.headers.set("Cache-Control", "no-store");
});
