import type { Context } from "hono";
import { BillingError } from "../billing/billing-error";
import { ApiError } from "./api-error";

/** The API's one error shape. */
export interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

/** Hono `onError`: every thrown error leaves as the one error shape. */
export function handleError(error: Error, c: Context): Response {
  const apiError = toApiError(error);
  if (apiError.status >= 500) console.error(error);
  const body: ErrorBody = {
    error: { code: apiError.code, message: apiError.message, ...(apiError.details && { details: apiError.details }) },
  };
  return c.json(body, apiError.status);
}

/** Hono `notFound`: unknown routes answer in the same shape. */
export function handleNotFound(c: Context): Response {
  return handleError(new ApiError("NOT_FOUND", { message: `No route for ${c.req.method} ${c.req.path}.` }), c);
}

/**
 * Domain errors carry a stable code and no HTTP status: this is where they get
 * one, from the same table as the HTTP layer's own codes (ERROR_CODES).
 */
function toApiError(error: Error): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof BillingError) {
    return new ApiError(error.code, { message: error.hasOwnMessage ? error.message : undefined, details: error.details, cause: error });
  }
  return new ApiError("INTERNAL_ERROR", { cause: error });
}
