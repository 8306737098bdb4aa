import type { Context } from "hono";
import { BillingError } from "../billing/billing-error";
import { GoCardlessApiError } from "../billing/gocardless/gocardless-api-error";
import { GoCardlessNotConfiguredError } from "../billing/gocardless/gocardless-client";
import { ApiError } from "./api-error";
import { ERROR_CODES, type ErrorCode } from "./error-codes";

/** The API's one error shape. */
export interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

/**
 * Hono `onError`: every thrown error leaves as the one error shape. Domain
 * errors (BillingError, the GoCardless client's) carry a stable code and no
 * HTTP status: this is where they get one, from the same table as the HTTP
 * layer's own codes.
 */
export function handleError(error: Error, c: Context): Response {
  const known = knownError(error);
  const code: ErrorCode = known?.code ?? "INTERNAL_ERROR";
  const { status, message } = ERROR_CODES[code];
  if (status >= 500) console.error(error);
  // An error thrown without its own message has its code as message: the table's applies.
  const body: ErrorBody = {
    error: { code, message: known?.message && known.message !== code ? known.message : message, ...(known?.details && { details: known.details }) },
  };
  return c.json(body, status);
}

/** Hono `notFound`: unknown routes answer in the same shape. */
export function handleNotFound(c: Context): Response {
  return handleError(new ApiError("NOT_FOUND", { message: `No route for ${c.req.method} ${c.req.path}.` }), c);
}

/** The stable code (and what may be shown) of an error this layer knows; undefined for anything else (500). */
function knownError(error: Error): { code: ErrorCode; message?: string; details?: Record<string, unknown> } | undefined {
  if (error instanceof ApiError || error instanceof BillingError) return error;
  if (error instanceof GoCardlessNotConfiguredError) return { code: "PROVIDER_NOT_CONFIGURED" };
  // GoCardless's own code (e.g. `validation_failed`, `network_error`) helps the caller; its message may name internals.
  if (error instanceof GoCardlessApiError) return { code: "PROVIDER_UNAVAILABLE", details: { provider: "gocardless", providerCode: error.code } };
  return undefined;
}
