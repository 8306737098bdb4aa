import { Buffer } from "node:buffer";

/** Base64 or base64url text, padded or not: what {@link decodeBase64} accepts. */
const BASE64_TEXT = /^[A-Za-z0-9+/_-]*={0,2}$/;

/**
 * Base64 and hex helpers for WebCrypto bytes, on the runtime's own `Buffer`
 * (`nodejs_compat`: built into workerd, so nothing of it is bundled).
 *
 * @example
 * ```ts
 * const bytes = decodeBase64("AAEC")       // Uint8Array [0, 1, 2]
 * const text = encodeBase64Url(bytes)      // "AAEC" (no padding, URL-safe)
 * ```
 */
export function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  // As `atob` does, ASCII whitespace is dropped (a key pasted with a line
  // break still works). Buffer would skip anything else that is not base64,
  // and a dangling last character: a mistyped key or a forged cursor must
  // fail instead of decoding to something.
  const compact = text.replace(/[\t\n\f\r ]/g, "");
  if (!BASE64_TEXT.test(compact) || compact.replace(/=+$/, "").length % 4 === 1) throw new TypeError("not base64 text");
  return new Uint8Array(Buffer.from(compact, "base64"));
}

/** Bytes → URL-safe base64 without padding. */
export function encodeBase64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("base64url");
}

/** Bytes → lower-case hex. */
export function encodeHex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}
