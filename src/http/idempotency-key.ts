import type { Context } from "hono";
import { idempotencyKeySchema } from "../db/column-schemas";
import { ApiError } from "./api-error";

/**
 * The request's `Idempotency-Key` header (Stripe's convention): missing → 400
 * IDEMPOTENCY_KEY_REQUIRED; not 1–255 printable ASCII characters (no spaces), or one of the
 * billing engine's own keys (`engine:…`) → 400 IDEMPOTENCY_KEY_INVALID.
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
  // engine:<subscription>:<period>:<n> names the engine's collections (create-due-attempt.ts): a user
  // holding one would make the engine skip that collection as already made.
  if (!idempotencyKeySchema.safeParse(key).success || key.startsWith("engine:")) throw new ApiError("IDEMPOTENCY_KEY_INVALID");
  return key;
}
