import type { ContentfulStatusCode } from "hono/utils/http-status";
import { ERROR_CODES, type ErrorCode } from "./error-codes";

/**
 * The one error type of the HTTP API; `handleError` turns it into
 * `{ "error": { "code", "message", "details"? } }`.
 *
 * @example
 * ```ts
 * throw new ApiError("NOT_FOUND")
 * throw new ApiError("VALIDATION_FAILED", { details: { fields } })
 * ```
 */
export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly status: ContentfulStatusCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, options: { message?: string; details?: Record<string, unknown>; cause?: unknown } = {}) {
    super(options.message ?? ERROR_CODES[code].message, { cause: options.cause });
    this.name = "ApiError";
    this.code = code;
    this.status = ERROR_CODES[code].status;
    this.details = options.details;
  }
}
