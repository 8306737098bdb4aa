import { encodeHex } from "./base64";

/**
 * The fingerprint stored next to an idempotency key: SHA-256 (hex) of the
 * method, the path and the body in canonical JSON (keys sorted), so the same
 * request always hashes the same however its JSON was formatted, and a key
 * reused for another request can be told apart.
 *
 * @example
 * ```ts
 * await requestFingerprint("POST", "/api/billing/subscriptions/s1/payment-attempts", { directDebitTokenId: "t1" })
 * ```
 */
export async function requestFingerprint(method: string, path: string, body: unknown): Promise<string> {
  const text = `${method.toUpperCase()}\n${path}\n${canonicalJson(body)}`;
  return encodeHex(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text))));
}

/** JSON with object keys sorted at every level; `undefined` members dropped, as JSON.stringify does. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value ?? null, (_key, member: unknown) =>
    member && typeof member === "object" && !Array.isArray(member)
      ? Object.fromEntries(Object.entries(member).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : member,
  );
}
