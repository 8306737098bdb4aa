/**
 * The stable codes the billing domain refuses with. Each is also a key of the
 * HTTP layer's one table (src/http/error-codes.ts), which gives it a status and
 * a default message; `pnpm typecheck` fails when one is missing there.
 */
export type BillingErrorCode =
  | "INVALID_JSON"
  | "VALIDATION_FAILED"
  | "INVALID_TRANSITION"
  | "SUBSCRIPTION_NOT_PAYABLE"
  | "NOTHING_TO_PAY"
  | "PAYMENT_NOT_DUE"
  | "TOKEN_NOT_FOUND"
  | "NO_DEFAULT_TOKEN"
  | "TOKEN_NOT_ACTIVE"
  | "TOKEN_ENCRYPTION_UNAVAILABLE";

/**
 * The one error the billing domain throws for a request it refuses: a stable
 * code and optional details, no HTTP status (the HTTP layer's `onError` maps
 * the code). Without a message the HTTP layer answers with the code's default.
 *
 * @example
 * ```ts
 * throw new BillingError("TOKEN_NOT_ACTIVE", { details: { status: token.status } })
 * ```
 */
export class BillingError extends Error {
  declare readonly code: BillingErrorCode;
  declare readonly details: Record<string, unknown> | undefined;

  /** `message` only when the case says more than the code's default message (else the message is the code). */
  constructor(code: BillingErrorCode, options: { message?: string; details?: Record<string, unknown>; cause?: unknown } = {}) {
    super(options.message ?? code, { cause: options.cause });
    this.name = "BillingError";
    this.code = code;
    this.details = options.details;
  }
}
