import type { Context } from "hono";
import { idempotencyKeySchema } from "../db/column-schemas";
import { ApiError } from "./api-error";

/**
 * The request's `Idempotency-Key` header (Stripe's convention): missing → 400
 * IDEMPOTENCY_KEY_REQUIRED; not 1–255 printable ASCII characters (no spaces) → 400
 * IDEMPOTENCY_KEY_INVALID.
 *
 * @example
 * ```ts
 * const key = readIdempotencyKey(c) // e.g. a UUID the client generated once per intended payment
 * ```
 */
export function readIdempotencyKey(c: Context): string {
  const key = c.req.header("idempotency-key");
  if (key === undefined || key === "") throw new ApiError("IDEMPOTENCY_KEY_REQUIRED");
  // The column's rule (printable ASCII, no spaces): keys end up in logs and a unique index.
  if (!idempotencyKeySchema.safeParse(key).success) throw new ApiError("IDEMPOTENCY_KEY_INVALID");
  return key;
}
