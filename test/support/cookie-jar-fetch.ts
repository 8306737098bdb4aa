import { exports } from "cloudflare:workers";
import { freshClientIp, ORIGIN } from "./auth-session";

/**
 * A `fetch` that calls the Worker in-process (`exports.default.fetch`) like a
 * browser on {@link ORIGIN} would: it sends the cookies earlier responses set
 * and keeps the ones each response sets (or clears). Give it to Better Auth's
 * `createAuthClient` as `customFetchImpl`, and use it for the billing API too.
 *
 * @example
 * ```ts
 * const jar = cookieJarFetch()
 * const client = createAuthClient({ baseURL: ORIGIN, fetchOptions: { customFetchImpl: jar.fetch } })
 * await client.signUp.email({ email, password, name })
 * await jar.fetch(`${ORIGIN}/api/billing/subscriptions`)
 * ```
 */
export function cookieJarFetch(): { fetch: typeof fetch; cookies: Map<string, string> } {
  const cookies = new Map<string, string>();
  const ip = freshClientIp();
  const jarFetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = new Request(input instanceof URL ? input.toString() : input, init);
    const headers = new Headers(request.headers);
    headers.set("origin", ORIGIN);
    headers.set("cf-connecting-ip", ip);
    if (cookies.size > 0) headers.set("cookie", [...cookies].map(([name, value]) => `${name}=${value}`).join("; "));
    const response = await exports.default.fetch(new Request(request, { headers }));
    for (const setCookie of response.headers.getSetCookie()) {
      const [pair = "", ...attributes] = setCookie.split(";");
      const separator = pair.indexOf("=");
      const name = pair.slice(0, separator).trim();
      const value = pair.slice(separator + 1).trim();
      const expired = attributes.some((attribute) => /^\s*max-age=0\s*$/i.test(attribute)) || value === "";
      if (expired) cookies.delete(name);
      else cookies.set(name, value);
    }
    return response;
  };
  return { fetch: jarFetch as typeof fetch, cookies };
}
