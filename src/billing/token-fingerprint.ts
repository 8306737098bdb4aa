import { BillingError } from "./billing-error";
import { decodeBase64, encodeHex } from "./base64";

/**
 * Imports `TOKEN_FINGERPRINT_KEY` (base64, at least 32 bytes) as an
 * HMAC-SHA256 key. It is a separate secret from the encryption keys and must
 * not rotate casually: every stored fingerprint depends on it.
 *
 * @example
 * ```ts
 * const key = await loadFingerprintKey(env.TOKEN_FINGERPRINT_KEY)
 * ```
 */
export async function loadFingerprintKey(secret: string | undefined): Promise<CryptoKey> {
  let raw: Uint8Array<ArrayBuffer> | undefined;
  try {
    raw = secret ? decodeBase64(secret.trim()) : undefined;
  } catch {
    raw = undefined;
  }
  if (!raw || raw.length < 32) {
    throw new BillingError("TOKEN_ENCRYPTION_UNAVAILABLE", {
      cause: new Error("TOKEN_FINGERPRINT_KEY is missing or not at least 32 bytes of base64"),
    });
  }
  return crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
}

/**
 * A keyed fingerprint of a provider token: HMAC-SHA256 over
 * `<provider>:<token>`, hex. Equal tokens give equal fingerprints (so the
 * database can refuse duplicates and webhooks can find a mandate), but
 * without the key nobody can test a guessed token against the table.
 *
 * @example
 * ```ts
 * const fingerprint = await fingerprintToken(key, "gocardless", "MD0001ABC") // "3f9c…" (64 hex)
 * ```
 */
export async function fingerprintToken(key: CryptoKey, provider: string, token: string): Promise<string> {
  const mac = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`${provider}:${token}`));
  return encodeHex(new Uint8Array(mac));
}
