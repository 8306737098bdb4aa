import type { ContentfulStatusCode, UnofficialStatusCode } from "hono/utils/http-status";

/**
 * Every error code the API answers with, defined once: stable UPPER_SNAKE
 * code → HTTP status and default human message. The billing domain throws
 * its codes (BillingErrorCode, a subset of these) without a status;
 * handleError maps them here.
 */
export const ERROR_CODES = {
  NOT_FOUND: { status: 404, message: "Not found." },
  INTERNAL_ERROR: { status: 500, message: "Something went wrong on our side." },
  SECRETS_NOT_CONFIGURED: {
    status: 500,
    message: "The server's secrets are missing, too short or still placeholders; its operator must set them (see the server log).",
  },

  // Requests
  INVALID_JSON: { status: 400, message: "The request body is not valid UTF-8 JSON." },
  VALIDATION_FAILED: { status: 400, message: "Some fields are invalid; see details.fields." },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: "Send the body as application/json in UTF-8." },
  PAYLOAD_TOO_LARGE: { status: 413, message: "The request body is too large." },
  UNAUTHENTICATED: { status: 401, message: "Sign in first: this route needs a session." },
  FORBIDDEN: { status: 403, message: "Your account may not do this." },
  UNTRUSTED_ORIGIN: {
    status: 403,
    message: "A cookie-authenticated write must come from the app's own origin; send an Origin header matching BETTER_AUTH_URL.",
  },

  // Idempotency (payment attempts)
  IDEMPOTENCY_KEY_REQUIRED: { status: 400, message: "Send an Idempotency-Key header (1-255 printable ASCII characters, no spaces)." },
  IDEMPOTENCY_KEY_INVALID: { status: 400, message: "The Idempotency-Key must be 1-255 printable ASCII characters without spaces, not starting with engine: (the billing engine's own)." },
  IDEMPOTENCY_KEY_REUSED: {
    status: 409,
    message: "This Idempotency-Key was already used for a different request; use a new key for a new request.",
  },

  // Billing
  PLAN_NOT_FOUND: { status: 404, message: "No such plan." },
  PLAN_EXISTS: { status: 409, message: "A plan with this code already exists." },
  PLAN_HAS_SUBSCRIBERS: {
    status: 409,
    message: "This plan has live subscribers, so its price cannot change; create a new plan and move subscribers to it.",
  },
  SUBSCRIPTION_NOT_FOUND: { status: 404, message: "No such subscription." },
  SUBSCRIPTION_EXISTS: { status: 409, message: "You already have a live subscription to this plan." },
  SUBSCRIPTION_NOT_PAYABLE: { status: 409, message: "This subscription cannot take a payment in its current state." },
  INVALID_TRANSITION: { status: 409, message: "The subscription cannot move from its current state to the requested one." },
  NOTHING_TO_PAY: { status: 409, message: "This plan is free: there is nothing to pay." },
  PAYMENT_NOT_DUE: {
    status: 409,
    message: "Nothing is due on this subscription yet: its renewal can be paid from details.dueFrom (never when it ends at the period's end).",
  },
  PAYMENT_IN_PROGRESS: {
    status: 409,
    message: "A payment for this subscription is already pending; wait for its outcome before starting another.",
  },
  PAYMENT_ATTEMPT_NOT_FOUND: { status: 404, message: "No such payment attempt." },
  TOKEN_NOT_FOUND: { status: 404, message: "No such direct-debit token." },
  TOKEN_EXISTS: { status: 409, message: "This direct-debit mandate is already stored." },
  TOKEN_NOT_ACTIVE: { status: 409, message: "This direct-debit token is not active (its mandate is pending, revoked, failed or expired)." },
  NO_DEFAULT_TOKEN: {
    status: 409,
    message: "You have no active default direct-debit token; add one (and wait for its mandate to activate) or name one.",
  },
  PROVIDER_CUSTOMER_REQUIRED: {
    status: 409,
    message: "You have no customer at this provider yet: create it with POST /api/billing/provider-customers, then set the mandate up for that customer.",
  },
  MANDATE_NOT_YOURS: {
    status: 403,
    message: "The provider has no mandate with this id for your customer; nothing was stored.",
  },
  MANDATE_UNUSABLE: {
    status: 409,
    message: "The provider says this mandate can never be charged (details.status); nothing was stored. Set up a new mandate.",
  },
  PROVIDER_NOT_CONFIGURED: {
    status: 503,
    message: "The payment provider is not configured on the server (no access token); nothing was sent or stored.",
  },
  PROVIDER_UNAVAILABLE: {
    status: 502,
    message: "The payment provider did not give a usable answer; nothing was stored. Try again later.",
  },
  TOKEN_ENCRYPTION_UNAVAILABLE: {
    status: 500,
    message: "Token encryption is not configured on the server; nothing was stored.",
  },

  // Webhooks
  // 498 "Token Invalid": GoCardless's rule for a delivery whose signature does not match.
  INVALID_SIGNATURE: { status: 498 as UnofficialStatusCode, message: "The webhook signature is missing or does not match the body." },
  WEBHOOK_NOT_CONFIGURED: { status: 500, message: "This webhook provider has no signing secret configured." },
} as const satisfies Record<string, { status: ContentfulStatusCode; message: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;
