import type { ErrorCode } from "./error-codes";

/**
 * The one error type of the HTTP API; `handleError` turns it into
 * `{ "error": { "code", "message", "details"? } }`, with the status and (unless
 * given here) the message of its code in ERROR_CODES.
 *
 * @example
 * ```ts
 * throw new ApiError("NOT_FOUND")
 * throw new ApiError("VALIDATION_FAILED", { details: { fields } })
 * ```
 */
export class ApiError extends Error {
  declare readonly code: ErrorCode;
  declare readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, options: { message?: string; details?: Record<string, unknown>; cause?: unknown } = {}) {
    super(options.message ?? code, { cause: options.cause });
    this.name = "ApiError";
    this.code = code;
    this.details = options.details;
  }
}
