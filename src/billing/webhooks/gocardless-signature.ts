import { Buffer } from "node:buffer";
/**
 * GoCardless's webhook signature: `Webhook-Signature` holds the lower-case hex
 * HMAC-SHA256 of the raw request body, keyed with the webhook endpoint's secret
 * (GoCardless creates one per endpoint in its dashboard). Nothing else is
 * signed: there is no timestamp, so a captured delivery stays valid, and
 * replays are refused by the processed-events ledger instead.
 */

const HEX_SHA256 = /^[0-9a-f]{64}$/;

/**
 * Whether `header` is GoCardless's signature of `rawBody` (the bytes received,
 * never their decoded text: a BOM or a byte that is not UTF-8 is signed as sent) under one of
 * `secrets` (several while a secret rotates). Anything but exactly 64
 * lower-case hex digits is refused, so a Stripe-style `t=…,v1=…` header never
 * passes. Comparison is `crypto.subtle.verify`, which is constant-time.
 *
 * @example
 * ```ts
 * const ok = await verifyGoCardlessSignature(request.headers.get("Webhook-Signature"), await request.arrayBuffer(), ["<endpoint secret>"])
 * ```
 */
export async function verifyGoCardlessSignature(header: string | null, rawBody: ArrayBuffer, secrets: readonly string[]): Promise<boolean> {
  if (header === null || !HEX_SHA256.test(header)) return false;
  const signature = new Uint8Array(Buffer.from(header, "hex"));
  for (const secret of secrets) {
    const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
    if (await crypto.subtle.verify("HMAC", key, signature, rawBody)) return true;
  }
  return false;
}
