/**
 * Base64 helpers for WebCrypto bytes (workerd has `atob`/`btoa`, which work
 * on binary strings).
 *
 * @example
 * ```ts
 * const bytes = decodeBase64("AAEC")       // Uint8Array [0, 1, 2]
 * const text = encodeBase64Url(bytes)      // "AAEC" (no padding, URL-safe)
 * ```
 */
export function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  const normal = text.replace(/-/g, "+").replace(/_/g, "/");
  const binary = atob(normal);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** Bytes → URL-safe base64 without padding. */
export function encodeBase64Url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** Bytes → lower-case hex. */
export function encodeHex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}
