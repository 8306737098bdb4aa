import { describe, expect, it } from "vitest";
import { GoCardlessApiError } from "../../src/billing/gocardless/gocardless-api-error";
import { createGoCardlessClient, GoCardlessNotConfiguredError } from "../../src/billing/gocardless/gocardless-client";
import {
  createdPaymentBody,
  idempotentCreationConflictBody,
  mandateBody,
  mandateIsInactiveBody,
  validationFailedBody,
} from "../support/gocardless/api-fixtures";

// The outbound GoCardless client, stubbed only at the network edge (an
// injected fetch) with answers from GoCardless's API reference.

const BASE = "https://api-sandbox.gocardless.com";
const TOKEN = "sandbox_test_token";

interface Sent {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
}

/** A fetch that records each request and answers with the next of `answers`. */
function stubFetch(...answers: (Response | Error)[]) {
  const sent: Sent[] = [];
  const fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    const text = await request.text();
    sent.push({ method: request.method, url: request.url, headers: Object.fromEntries(request.headers), body: text === "" ? undefined : JSON.parse(text) });
    const answer = answers.shift();
    if (answer === undefined) throw new Error("unexpected request");
    if (answer instanceof Error) throw answer;
    return answer;
  };
  return { fetch: fetch as typeof globalThis.fetch, sent };
}

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

const PAYMENT = { amountMinor: 60356, currency: "GBP", chargeDate: "2024-04-04", mandateId: "MD000ZTEXWE3T0", paymentAttemptId: "attempt-1" };
const HEADERS = { authorization: `Bearer ${TOKEN}`, "gocardless-version": "2015-07-06", accept: "application/json" };

describe("createPayment", () => {
  it("sends exactly GoCardless's create-payment request, keyed by the attempt id, and returns the payment", async () => {
    const { fetch, sent } = stubFetch(json(createdPaymentBody("attempt-1"), 201));
    const payment = await createGoCardlessClient({ accessToken: TOKEN, baseUrl: `${BASE}/`, fetch }).createPayment(PAYMENT);

    expect(sent).toEqual([
      {
        method: "POST",
        url: `${BASE}/payments`,
        headers: { ...HEADERS, "content-type": "application/json", "idempotency-key": "attempt-1" },
        body: {
          payments: {
            amount: 60356,
            currency: "GBP",
            charge_date: "2024-04-04",
            metadata: { payment_attempt_id: "attempt-1" },
            links: { mandate: "MD000ZTEXWE3T0" },
          },
        },
      },
    ]);
    expect(payment).toMatchObject({ id: "PM009P3V243EGQ", status: "pending_submission", metadata: { payment_attempt_id: "attempt-1" } });
  });

  it("without a charge date sends none (GoCardless then collects as soon as it can)", async () => {
    const { fetch, sent } = stubFetch(json(createdPaymentBody("attempt-1"), 201));
    await createGoCardlessClient({ accessToken: TOKEN, baseUrl: BASE, fetch }).createPayment({ ...PAYMENT, chargeDate: undefined });
    expect((sent[0]!.body as any).payments).not.toHaveProperty("charge_date");
  });

  it("409 idempotent_creation_conflict: fetches the payment named in links.conflicting_resource_id and returns it", async () => {
    const { fetch, sent } = stubFetch(json(idempotentCreationConflictBody("PM009P3V243EGQ"), 409), json(createdPaymentBody("attempt-1")));
    const payment = await createGoCardlessClient({ accessToken: TOKEN, baseUrl: BASE, fetch }).createPayment(PAYMENT);

    expect(sent.map((request) => `${request.method} ${request.url}`)).toEqual([`POST ${BASE}/payments`, `GET ${BASE}/payments/PM009P3V243EGQ`]);
    expect(sent[1]).toEqual({ method: "GET", url: `${BASE}/payments/PM009P3V243EGQ`, headers: HEADERS, body: undefined });
    expect(payment.id).toBe("PM009P3V243EGQ");
  });

  it.each([
    ["422 validation_failed", json(validationFailedBody, 422), 422, "validation_failed", "Validation failed: charge_date must be on or after mandate's next_possible_customer_charge_date"],
    ["422 mandate_is_inactive", json(mandateIsInactiveBody, 422), 422, "mandate_is_inactive", "The mandate for this payment is cancelled"],
    ["a 502 HTML page from a proxy", new Response("<html>Bad gateway</html>", { status: 502, statusText: "Bad Gateway" }), 502, "http_502", "GoCardless answered 502 Bad Gateway"],
    ["a network failure", new TypeError("Network connection lost."), 0, "network_error", "GoCardless could not be reached: Network connection lost."],
    ["a 201 without a payments envelope", json({}, 201), 201, "unexpected_response", 'GoCardless\'s answer has no "payments"'],
  ])("%s → GoCardlessApiError with its code and message", async (_name, answer, status, code, message) => {
    const { fetch } = stubFetch(answer);
    const error = await createGoCardlessClient({ accessToken: TOKEN, baseUrl: BASE, fetch })
      .createPayment(PAYMENT)
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(GoCardlessApiError);
    expect(error).toMatchObject({ status, code, message });
  });

  it("a 409 of another kind is an error, not a fetch", async () => {
    const body = { error: { type: "invalid_state", code: 409, message: "Conflict", errors: [{ reason: "some_other_conflict", message: "Conflict" }] } };
    const { fetch, sent } = stubFetch(json(body, 409));
    await expect(createGoCardlessClient({ accessToken: TOKEN, baseUrl: BASE, fetch }).createPayment(PAYMENT)).rejects.toMatchObject({ code: "some_other_conflict" });
    expect(sent).toHaveLength(1);
  });
});

describe("getMandate", () => {
  it("GETs /mandates/:id (the id URL-encoded) and returns the mandate with its customer", async () => {
    const { fetch, sent } = stubFetch(json(mandateBody("MD 1/2", "CU123")));
    const mandate = await createGoCardlessClient({ accessToken: TOKEN, baseUrl: BASE, fetch }).getMandate("MD 1/2");
    expect(sent).toEqual([{ method: "GET", url: `${BASE}/mandates/MD%201%2F2`, headers: HEADERS, body: undefined }]);
    expect(mandate.links.customer).toBe("CU123");
  });
});

describe("without an access token", () => {
  it.each([undefined, ""])("(%j) fails closed: throws before any request", (accessToken) => {
    const { fetch, sent } = stubFetch();
    expect(() => createGoCardlessClient({ accessToken, baseUrl: BASE, fetch })).toThrow(GoCardlessNotConfiguredError);
    expect(sent).toHaveLength(0);
  });
});
