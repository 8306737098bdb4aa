import { createMiddleware } from "hono/factory";

// Better Auth's session cache cookie (`better-auth.session_data`, its
// `__Secure-` form and its `.0`, `.1` … chunks) holds base64/base64url text
// or a JWT; nothing else is ever written to it.
const CACHE_COOKIE_NAME = /session_data(\.\d+)?$/;
const CACHE_COOKIE_VALUE = /^[A-Za-z0-9+/_.=-]*$/;

/**
 * Middleware: drops a session cache cookie that Better Auth could not read
 * from the request before anything sees it. Better Auth 1.7 throws while
 * decoding such a value (`Invalid Base64 character`), so one truncated or
 * planted cookie would turn every signed-in request into a 500 until sign-out;
 * without it the session is simply read from D1, as for a missing cache.
 *
 * @example
 * ```ts
 * app.use("/api/*", dropUnreadableSessionCache)
 * ```
 */
export const dropUnreadableSessionCache = createMiddleware(async (c, next) => {
  const header = c.req.raw.headers.get("cookie");
  if (header) {
    const pairs = header.split(";");
    const kept = pairs.filter((pair) => !isUnreadableCacheCookie(pair));
    if (kept.length !== pairs.length) {
      const headers = new Headers(c.req.raw.headers);
      if (kept.length > 0) headers.set("cookie", kept.join(";"));
      else headers.delete("cookie");
      c.req.raw = new Request(c.req.raw, { headers });
    }
  }
  await next();
});

function isUnreadableCacheCookie(pair: string): boolean {
  const separator = pair.indexOf("=");
  if (separator < 0 || !CACHE_COOKIE_NAME.test(pair.slice(0, separator).trim())) return false;
  try {
    return !CACHE_COOKIE_VALUE.test(decodeURIComponent(pair.slice(separator + 1).trim()));
  } catch {
    return true; // malformed percent-encoding
  }
}
