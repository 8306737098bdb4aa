import type { Context } from "hono";
import { GoCardlessApiError } from "../billing/gocardless/gocardless-api-error";
import { GoCardlessNotConfiguredError } from "../billing/gocardless/gocardless-client";
import { LifecycleError } from "../billing/lifecycle/lifecycle-error";
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

/** Domain errors carry a stable code and no HTTP status: this is where they get one. */
function toApiError(error: Error): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof LifecycleError) return new ApiError(error.code, { message: error.message, details: error.details, cause: error });
  if (error instanceof GoCardlessNotConfiguredError) return new ApiError("PROVIDER_NOT_CONFIGURED", { cause: error });
  // GoCardless's own code (e.g. `validation_failed`, `network_error`) helps the caller; its message may name internals.
  if (error instanceof GoCardlessApiError) return new ApiError("PROVIDER_UNAVAILABLE", { details: { provider: "gocardless", providerCode: error.code }, cause: error });
  return new ApiError("INTERNAL_ERROR", { cause: error });
}
