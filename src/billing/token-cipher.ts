import { BillingError } from "./billing-error";
import { decodeBase64, encodeBase64Url } from "./base64";

/** The current key (encrypts) and every key still accepted (decrypts), by id. */
export interface TokenKeyring {
  currentKeyId: string;
  keys: ReadonlyMap<string, CryptoKey>;
}

/** What is stored for one token: never the plain text. */
export interface SealedToken {
  /** `<iv>.<ciphertext+tag>`, both base64url. */
  ciphertext: string;
  keyId: string;
}

const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;
const IV_BYTES = 12; // 96 bits: the IV size AES-GCM is designed for

/**
 * Parses `TOKEN_ENCRYPTION_KEYS` — `"<id>:<base64 of 32 bytes>,…"`, the first
 * entry being the current key — into AES-256-GCM keys. Rotation: put a new
 * key first and keep the old ones after it until every row is re-encrypted.
 *
 * Fails closed: a missing or malformed secret throws 500
 * TOKEN_ENCRYPTION_UNAVAILABLE before anything is stored.
 *
 * @example
 * ```ts
 * const keyring = await loadTokenKeyring(env.TOKEN_ENCRYPTION_KEYS) // "k2:…,k1:…"
 * ```
 */
export async function loadTokenKeyring(secret: string | undefined): Promise<TokenKeyring> {
  const entries = (secret ?? "").split(",").map((entry) => entry.trim()).filter(Boolean);
  if (entries.length === 0) throw unavailable("TOKEN_ENCRYPTION_KEYS is not set");
  const keys = new Map<string, CryptoKey>();
  for (const entry of entries) {
    const separator = entry.indexOf(":");
    const id = entry.slice(0, separator);
    if (separator < 0 || !KEY_ID.test(id)) throw unavailable("TOKEN_ENCRYPTION_KEYS entries must look like <id>:<base64>");
    if (keys.has(id)) throw unavailable(`TOKEN_ENCRYPTION_KEYS repeats key id '${id}'`);
    const raw = safeDecode(entry.slice(separator + 1));
    if (raw?.length !== 32) throw unavailable(`TOKEN_ENCRYPTION_KEYS key '${id}' is not 32 bytes of base64`);
    keys.set(id, await crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt", "decrypt"]));
  }
  return { currentKeyId: entries[0]!.slice(0, entries[0]!.indexOf(":")), keys };
}

/**
 * Encrypts a provider token with the current key and a fresh random IV.
 * `context` (e.g. the row id) is bound as additional data, so a ciphertext
 * copied into another row does not decrypt.
 *
 * @example
 * ```ts
 * const sealed = await sealToken(keyring, "MD0001ABC", tokenId)
 * // { ciphertext: "q1….Zx…", keyId: "k2" }
 * ```
 */
export async function sealToken(keyring: TokenKeyring, plaintext: string, context: string): Promise<SealedToken> {
  const key = keyring.keys.get(keyring.currentKeyId)!;
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const encrypted = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: new TextEncoder().encode(context) },
    key,
    new TextEncoder().encode(plaintext),
  );
  return { ciphertext: `${encodeBase64Url(iv)}.${encodeBase64Url(new Uint8Array(encrypted))}`, keyId: keyring.currentKeyId };
}

/**
 * Decrypts a {@link SealedToken} with the key it names (any key in the
 * keyring, current or retired). Throws when the key is gone or the data or
 * context were tampered with.
 *
 * @example
 * ```ts
 * const mandateId = await openToken(keyring, { ciphertext: row.tokenCiphertext, keyId: row.tokenKeyId }, row.id)
 * ```
 */
export async function openToken(keyring: TokenKeyring, sealed: SealedToken, context: string): Promise<string> {
  const key = keyring.keys.get(sealed.keyId);
  if (!key) throw unavailable(`no key '${sealed.keyId}' in TOKEN_ENCRYPTION_KEYS`);
  const [iv, data] = sealed.ciphertext.split(".");
  if (!iv || !data) throw new Error("malformed token ciphertext");
  const decrypted = await crypto.subtle.decrypt(
    { name: "AES-GCM", iv: decodeBase64(iv), additionalData: new TextEncoder().encode(context) },
    key,
    decodeBase64(data),
  );
  return new TextDecoder().decode(decrypted);
}

function safeDecode(text: string): Uint8Array<ArrayBuffer> | undefined {
  try {
    return decodeBase64(text);
  } catch {
    return undefined;
  }
}

// The client sees only the code; the reason goes to the server log through `cause`.
function unavailable(reason: string): BillingError {
  return new BillingError("TOKEN_ENCRYPTION_UNAVAILABLE", { cause: new Error(reason) });
}
