import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setUpStandInMandate, startGoCardlessStandIn } from "../../scripts/lib/gocardless-stand-in";

// The loopback stand-in `pnpm dev` serves without a GoCardless token answers a
// cancel GoCardless refuses with GoCardless's own error body.

/**
 * GoCardless's official Node client's fixture for a refused payment cancel
 * (github.com/gocardless/gocardless-nodejs, src/fixtures/invalid_state.json),
 * word for word; its request_id there is a placeholder.
 */
const OFFICIAL_CANCELLATION_FAILED = {
  error: {
    message: "Payment cannot be cancelled",
    documentation_url: "https://developer.gocardless.com/api-reference#cancellation_failed",
    type: "invalid_state",
    errors: [{ message: "Payment cannot be cancelled", reason: "cancellation_failed" }],
    request_id: "HARDCODED_REQUEST_ID",
    code: 422,
  },
};

/** A request id as the API reference's error examples and the official clients' tests show it: a UUID. */
const REQUEST_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe("the GoCardless stand-in refuses a cancel as GoCardless does", () => {
  let standIn: Awaited<ReturnType<typeof startGoCardlessStandIn>>;
  beforeAll(async () => {
    standIn = await startGoCardlessStandIn({ port: 0, log: () => {} });
  });
  afterAll(() => standIn.close());

  async function post(path: string, body: unknown = {}): Promise<{ status: number; body: any }> {
    const response = await fetch(`${standIn.url}${path}`, {
      method: "POST",
      headers: { Authorization: "Bearer local-stand-in", "GoCardless-Version": "2015-07-06", "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: await response.json() };
  }

  async function newMandate(): Promise<string> {
    const customer = await post("/customers", { customers: { email: "payer@example.com", given_name: "Ada", family_name: "Lovelace" } });
    return setUpStandInMandate(standIn.url, customer.body.customers.id);
  }

  /** The official body, as this answer's own request id would make it. */
  const official = (message: string, requestId: string) => {
    const { error } = OFFICIAL_CANCELLATION_FAILED;
    return { error: { ...error, message, errors: [{ ...error.errors[0]!, message }], request_id: requestId } };
  };

  it("a payment no longer pending_submission: 422 cancellation_failed, the official body", async () => {
    const mandate = await newMandate();
    const payment = await post("/payments", { payments: { amount: 500, currency: "GBP", links: { mandate } } });
    expect((await post("/scenario_simulators/payment_submitted/actions/run", { data: { links: { resource: payment.body.payments.id } } })).status).toBe(200);

    const refused = await post(`/payments/${payment.body.payments.id}/actions/cancel`);

    expect(refused.status).toBe(422);
    expect(refused.body.error.request_id).toMatch(REQUEST_ID);
    expect(refused.body).toEqual(official("Payment cannot be cancelled", refused.body.error.request_id));
  });

  it("a mandate cancelled already: 422 cancellation_failed in the same form, each answer with its own request id", async () => {
    const mandate = await newMandate();
    expect((await post(`/mandates/${mandate}/actions/cancel`)).status).toBe(200);

    const refused = await post(`/mandates/${mandate}/actions/cancel`);
    const again = await post(`/mandates/${mandate}/actions/cancel`);

    expect(refused.status).toBe(422);
    expect(refused.body.error.request_id).toMatch(REQUEST_ID);
    expect(refused.body).toEqual(official("Mandate cannot be cancelled", refused.body.error.request_id));
    expect(again.body.error.request_id).not.toBe(refused.body.error.request_id);
  });
});
