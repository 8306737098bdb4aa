import type { Context } from "hono";
import { BillingError } from "../billing/billing-error";
import { ApiError } from "./api-error";
import { ERROR_CODES, type ErrorCode } from "./error-codes";

/** The API's one error shape. */
export interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

/**
 * Hono `onError`: every thrown error leaves as the one error shape. Domain
 * errors (BillingError) carry a stable code and no HTTP status: this is where
 * they get one, from the same table as the HTTP layer's own codes.
 */
export function handleError(error: Error, c: Context): Response {
  const known = error instanceof ApiError || error instanceof BillingError ? error : undefined;
  const code: ErrorCode = known?.code ?? "INTERNAL_ERROR";
  const { status, message } = ERROR_CODES[code];
  if (status >= 500) console.error(error);
  // An error thrown without its own message has its code as message: the table's applies.
  const body: ErrorBody = {
    error: { code, message: known && known.message !== code ? known.message : message, ...(known?.details && { details: known.details }) },
  };
  return c.json(body, status);
}

/** Hono `notFound`: unknown routes answer in the same shape. */
export function handleNotFound(c: Context): Response {
  return handleError(new ApiError("NOT_FOUND", { message: `No route for ${c.req.method} ${c.req.path}.` }), c);
}
