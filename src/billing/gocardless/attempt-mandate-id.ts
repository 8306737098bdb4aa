import { openToken, type TokenKeyring } from "../token-cipher";

/**
 * The mandate id (`MD…`) an attempt was collected on, read from its token
 * even when the token is no longer active (asking GoCardless about the
 * attempt's payment needs it); undefined without a token or when it cannot be
 * decrypted (TOKEN_ENCRYPTION_KEYS).
 *
 * @example
 * ```ts
 * const mandateId = await attemptMandateId(keyring, { tokenId, tokenCiphertext, tokenKeyId })
 * ```
 */
export async function attemptMandateId(
  keyring: TokenKeyring,
  token: { tokenId: string | null; tokenCiphertext: string | null; tokenKeyId: string | null },
): Promise<string | undefined> {
  const { tokenId, tokenCiphertext, tokenKeyId } = token;
  return tokenId && tokenCiphertext && tokenKeyId ? openToken(keyring, { ciphertext: tokenCiphertext, keyId: tokenKeyId }, tokenId).catch(() => undefined) : undefined;
}
