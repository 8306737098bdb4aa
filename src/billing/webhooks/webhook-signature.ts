/**
 * Webhook signatures in Stripe's scheme: the header value is
 * `t=<unix seconds>,v1=<hex HMAC-SHA256>[,v1=…]`, the HMAC is over
 * `` `${t}.${rawBody}` `` with the endpoint's secret. Signing the timestamp
 * with the body is what makes a captured request useless after the tolerance.
 */

/** A signature older (or further in the future) than this is refused. */
export const SIGNATURE_TOLERANCE_SECONDS = 5 * 60;

const TIMESTAMP = /^\d{1,12}$/;
const HEX_SHA256 = /^[0-9a-f]{64}$/;

/**
 * Whether `header` signs `rawBody` with one of `secrets` (several while a
 * secret rotates) at a time within {@link SIGNATURE_TOLERANCE_SECONDS} of
 * `now`. Comparison is `crypto.subtle.verify`, which is constant-time.
 *
 * @example
 * ```ts
 * const ok = await verifyWebhookSignature({ header, rawBody, secrets: ["whsec_…"], now: new Date() })
 * ```
 */
export async function verifyWebhookSignature(input: {
  header: string | undefined;
  rawBody: string;
  secrets: readonly string[];
  now: Date;
}): Promise<boolean> {
  const parsed = parseSignatureHeader(input.header);
  if (!parsed || input.secrets.length === 0) return false;
  const age = Math.floor(input.now.getTime() / 1000) - parsed.timestamp;
  if (Math.abs(age) > SIGNATURE_TOLERANCE_SECONDS) return false;

  const signedPayload = new TextEncoder().encode(`${parsed.timestamp}.${input.rawBody}`);
  for (const secret of input.secrets) {
    const key = await crypto.subtle.importKey(
      "raw",
      new TextEncoder().encode(secret),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["verify"],
    );
    for (const signature of parsed.signatures) {
      if (await crypto.subtle.verify("HMAC", key, signature, signedPayload)) return true;
    }
  }
  return false;
}

function parseSignatureHeader(header: string | undefined): { timestamp: number; signatures: Uint8Array<ArrayBuffer>[] } | undefined {
  if (!header || header.length > 1024) return undefined;
  let timestamp: number | undefined;
  const signatures: Uint8Array<ArrayBuffer>[] = [];
  for (const part of header.split(",")) {
    const [name, value = ""] = part.trim().split("=", 2) as [string, string?];
    if (name === "t" && TIMESTAMP.test(value)) timestamp = Number(value);
    // Other schemes (Stripe's v0, future v2) are skipped, as Stripe's libraries do.
    if (name === "v1" && HEX_SHA256.test(value)) signatures.push(hexToBytes(value));
  }
  return timestamp === undefined || signatures.length === 0 ? undefined : { timestamp, signatures };
}

function hexToBytes(hex: string): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}
