/**
 * Response bodies of GoCardless's API, as its API reference and its client
 * libraries' tests show them (ids and dates as there; only the metadata of
 * the created payment holds our attempt id).
 */

/** `POST /payments` → 201, from the API reference's "Create a payment" example (`id` varied per test). */
export function createdPaymentBody(attemptId: string, id = "PM009P3V243EGQ") {
  return {
    payments: {
      id,
      created_at: "2024-03-26T17:54:01.353Z",
      charge_date: "2024-04-04",
      amount: 60356,
      description: null,
      currency: "GBP",
      status: "pending_submission",
      amount_refunded: 0,
      reference: null,
      metadata: { payment_attempt_id: attemptId },
      fx: { fx_currency: "GBP", fx_amount: null, exchange_rate: null, estimated_exchange_rate: null },
      links: { mandate: "MD000ZTEXWE3T0", creditor: "CR000070S65B1S" },
      retry_if_possible: true,
    },
  };
}

/** 409 for a reused Idempotency-Key, as GoCardless's Ruby client's tests stub it. */
export function idempotentCreationConflictBody(conflictingId: string) {
  return {
    error: {
      message: "A resource has already been created with this idempotency key",
      documentation_url: "https://developer.gocardless.com/api-reference#idempotent_creation_conflict",
      type: "invalid_state",
      request_id: "0429FRE8XSPRZ6V2JG3YRDG6F7JV",
      code: 409,
      errors: [
        {
          reason: "idempotent_creation_conflict",
          message: "A resource has already been created with this idempotency key",
          links: { conflicting_resource_id: conflictingId },
        },
      ],
    },
  };
}

/** 422 validation_failed, in the API reference's error format. */
export const validationFailedBody = {
  error: {
    message: "Validation failed",
    documentation_url: "https://developer.gocardless.com/api-reference#validation_failed",
    type: "validation_failed",
    request_id: "0429FRE8XSPRZ6V2JG3YRDG6F7JX",
    code: 422,
    errors: [
      {
        field: "charge_date",
        message: "must be on or after mandate's next_possible_customer_charge_date",
        request_pointer: "/payments/charge_date",
      },
    ],
  },
};

/** 422 invalid_state for a cancelled mandate, in the API reference's error format. */
export const mandateIsInactiveBody = {
  error: {
    message: "The mandate for this payment is cancelled",
    documentation_url: "https://developer.gocardless.com/api-reference#mandate_is_inactive",
    type: "invalid_state",
    request_id: "0429FRE8XSPRZ6V2JG3YRDG6F7JY",
    code: 422,
    errors: [{ reason: "mandate_is_inactive", message: "The mandate for this payment is cancelled" }],
  },
};

/** `GET /mandates/:id` → 200, from the API reference's "Get a single mandate" example. */
export function mandateBody(id: string, customer: string, status = "active") {
  return {
    mandates: {
      id,
      created_at: "2014-05-08T17:01:06.000Z",
      reference: "REF-123",
      scheme: "bacs",
      status,
      next_possible_charge_date: "2014-11-10",
      metadata: { contract: "ABCD1234" },
      links: { customer_bank_account: "BA123", creditor: "CR123", customer },
    },
  };
}

/**
 * 422 for `POST /payments/:id/actions/cancel` on a payment no longer `pending_submission`
 * (the API reference: "This will fail with a cancellation_failed error unless the payment's
 * status is pending_submission"), as GoCardless's Node client's fixture of it has it
 * (gocardless/gocardless-nodejs, src/fixtures/invalid_state.json).
 */
export const cancellationFailedBody = {
  error: {
    message: "Payment cannot be cancelled",
    documentation_url: "https://developer.gocardless.com/api-reference#cancellation_failed",
    type: "invalid_state",
    request_id: "0429FRE8XSPRZ6V2JG3YRDG6F7K0",
    code: 422,
    errors: [{ reason: "cancellation_failed", message: "Payment cannot be cancelled" }],
  },
};

/** 500, in the API reference's error format (`gocardless` error type). */
export const internalServerErrorBody = {
  error: {
    message: "Uh-oh! Something went wrong. Please contact support.",
    documentation_url: "https://developer.gocardless.com/api-reference#internal_server_error",
    type: "gocardless",
    request_id: "0429FRE8XSPRZ6V2JG3YRDG6F7K1",
    code: 500,
    errors: [{ reason: "internal_server_error", message: "Uh-oh! Something went wrong. Please contact support." }],
  },
};

/** 404 for an id the account does not hold, in the API reference's error format (`invalid_api_usage`). */
export const resourceNotFoundBody = {
  error: {
    message: "Resource not found",
    documentation_url: "https://developer.gocardless.com/api-reference#resource_not_found",
    type: "invalid_api_usage",
    request_id: "0429FRE8XSPRZ6V2JG3YRDG6F7JZ",
    code: 404,
    errors: [{ reason: "resource_not_found", message: "Resource not found" }],
  },
};
