/**
 * Whether the billing tables' length CHECKs accept `value`: `min`–`max`
 * characters counted like SQLite's `length()` (code points, where
 * `String#length` counts UTF-16 units), and no NUL: SQLite's `length()` stops
 * at the first NUL, so the CHECKs would see another length than this one
 * (and refuse `"\u0000…"` as empty); and no lone UTF-16 surrogate (JSON can
 * carry `"\ud800"`): it is no text, D1 stores it as bytes that read back as
 * another string, so a lookup by it never finds its row.
 *
 * @example
 * ```ts
 * isStorableText("EV123", 1, BILLING_LIMITS.providerIdLength) // true
 * isStorableText("EV\u0000", 1, BILLING_LIMITS.providerIdLength) // false
 * ```
 */
export function isStorableText(value: string, min: number, max: number): boolean {
  const length = [...value].length;
  return length >= min && length <= max && !value.includes("\u0000") && value.isWellFormed();
}

/**
 * Free text from outside (a provider's failure message) made storable: NUL
 * removed, a lone surrogate replaced by U+FFFD, cut to `max` characters (code points, so no character is split),
 * and `fallback` when nothing is left.
 *
 * @example
 * ```ts
 * storableText("\u0000insufficient funds", BILLING_LIMITS.failureCodeLength, "unknown") // "insufficient funds"
 * ```
 */
export function storableText(value: string, max: number, fallback: string): string {
  const text = [...value.replaceAll("\u0000", "").toWellFormed()].slice(0, max).join("");
  return text.length > 0 ? text : fallback;
}
