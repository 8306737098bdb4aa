import { GoCardlessApiError } from "./gocardless-api-error";

/** The API version this client speaks (GoCardless's `GoCardless-Version` header). */
export const GOCARDLESS_VERSION = "2015-07-06";

/**
 * How long one GoCardless API call may take (ms), answer body included. A
 * GoCardless that accepts the connection and never answers would otherwise
 * hold an API request, or a whole scheduled run, until the platform kills it;
 * past this the call fails as `network_error`, like a dropped connection.
 */
export const GOCARDLESS_TIMEOUT_MS = 10_000;

/** GoCardless's base URLs. */
export const GOCARDLESS_API_URLS = { sandbox: "https://api-sandbox.gocardless.com", live: "https://api.gocardless.com" } as const;

/** A payment as GoCardless's API returns it (the fields billing reads). */
export interface GoCardlessPayment {
  id: string;
  status: string;
  amount: number;
  currency: string;
  charge_date: string;
  metadata: Record<string, string>;
  links: { mandate: string; creditor?: string };
}

/** A mandate as GoCardless's API returns it (the fields billing reads). */
export interface GoCardlessMandate {
  id: string;
  status: string;
  links: { customer: string; customer_bank_account?: string; creditor?: string };
}

/** A customer as GoCardless's API returns it (the fields billing reads). */
export interface GoCardlessCustomer {
  id: string;
  email: string | null;
  given_name: string | null;
  family_name: string | null;
  metadata: Record<string, string>;
}

/** The customer the app creates for one of its users. */
export interface NewGoCardlessCustomer {
  /** Our `user.id`: the customer's metadata, and the Idempotency-Key's ground. */
  userId: string;
  email: string;
  givenName: string;
  familyName: string;
}

/** What a payment for one of our attempts asks GoCardless to collect. */
export interface NewGoCardlessPayment {
  /** In the currency's minor units (pence, cents). */
  amountMinor: number;
  /** ISO 4217, e.g. "GBP". */
  currency: string;
  /**
   * The day to collect on (YYYY-MM-DD). Without it GoCardless collects on the
   * mandate's next possible date, which may be before the period is due.
   */
  chargeDate: string | undefined;
  mandateId: string;
  /** Our `payment_attempts.id`: the payment's metadata and its Idempotency-Key. */
  paymentAttemptId: string;
}

/** The calls billing makes to GoCardless. */
export interface GoCardlessClient {
  /**
   * Creates the payment for an attempt, idempotently: the `Idempotency-Key`
   * is the attempt id, and when GoCardless answers 409
   * `idempotent_creation_conflict` (this attempt's payment exists already)
   * the existing payment named in `links.conflicting_resource_id` is fetched
   * and returned, as GoCardless's own client libraries do.
   */
  createPayment(payment: NewGoCardlessPayment): Promise<GoCardlessPayment>;
  getPayment(id: string): Promise<GoCardlessPayment>;
  /**
   * One page of payments, `GET /payments?<query>` with GoCardless's list parameters
   * (e.g. `{ mandate: "MD…", limit: "500" }`, `"created_at[gte]"`).
   */
  listPayments(query: Record<string, string>): Promise<GoCardlessPayment[]>;
  /**
   * `POST /payments/:id/actions/cancel`: GoCardless cancels a payment only while it is
   * `pending_submission`; otherwise it answers 422 `cancellation_failed`.
   */
  cancelPayment(id: string): Promise<GoCardlessPayment>;
  getMandate(id: string): Promise<GoCardlessMandate>;
  /**
   * Creates the customer for one of our users, idempotently
   * (`Idempotency-Key: customer-<user id>`; a 409 `idempotent_creation_conflict`
   * returns the customer created first), so two clicks make one customer.
   */
  createCustomer(customer: NewGoCardlessCustomer): Promise<GoCardlessCustomer>;
  getCustomer(id: string): Promise<GoCardlessCustomer>;
}

/** The GoCardless resources billing calls; each names its URL path and its JSON envelope. */
type Resource = "payments" | "mandates" | "customers";

/** No access token is configured: nothing may be sent, nothing is charged. */
export class GoCardlessNotConfiguredError extends Error {
  constructor() {
    super("GOCARDLESS_ACCESS_TOKEN is not set: no GoCardless API call is made and nothing is charged");
    this.name = "GoCardlessNotConfiguredError";
  }
}

/**
 * A client for GoCardless's API at `baseUrl`, authenticated with
 * `accessToken`; `fetch` is injected so tests stub the network edge.
 * Fails closed: a missing token throws {@link GoCardlessNotConfiguredError}
 * here, before any call. Every error answer is a GoCardlessApiError
 * (code + message), and so is a network failure (`code: "network_error"`).
 *
 * @example
 * ```ts
 * const gocardless = createGoCardlessClient({ accessToken: env.GOCARDLESS_ACCESS_TOKEN, baseUrl: env.GOCARDLESS_API_URL })
 * const payment = await gocardless.createPayment({ amountMinor: 1500, currency: "GBP", chargeDate: "2026-12-24", mandateId: "MD123", paymentAttemptId: attempt.id })
 * ```
 */
export function createGoCardlessClient(options: { accessToken: string | undefined; baseUrl: string; fetch?: typeof fetch }): GoCardlessClient {
  const { accessToken } = options;
  if (!accessToken) throw new GoCardlessNotConfiguredError();
  const send = options.fetch ?? globalThis.fetch;
  const base = options.baseUrl.replace(/\/+$/, "");

  /**
   * One call on a resource (`payments`, `mandates`, `customers`): its URL is
   * `/<resource><rest>`, and GoCardless wraps both the request's and the answer's
   * body in an envelope named after the resource.
   */
  async function call<T>(method: "GET" | "POST", resource: Resource, rest = "", init: { fields?: unknown; idempotencyKey?: string } = {}): Promise<T> {
    const headers: Record<string, string> = {
      Authorization: `Bearer ${accessToken}`,
      "GoCardless-Version": GOCARDLESS_VERSION,
      Accept: "application/json",
    };
    if (init.fields !== undefined) headers["Content-Type"] = "application/json";
    if (init.idempotencyKey !== undefined) headers["Idempotency-Key"] = init.idempotencyKey;
    let response: Response;
    try {
      const signal = AbortSignal.timeout(GOCARDLESS_TIMEOUT_MS);
      response = await send(`${base}/${resource}${rest}`, { method, headers, body: init.fields === undefined ? undefined : JSON.stringify({ [resource]: init.fields }), signal });
    } catch (cause) {
      throw new GoCardlessApiError({ status: 0, code: "network_error", message: `GoCardless could not be reached: ${(cause as Error).message}`, cause });
    }
    if (!response.ok) throw await GoCardlessApiError.fromResponse(response);
    const body = (await response.json().catch(() => undefined)) as Record<string, T> | undefined;
    const found = body?.[resource];
    if (found === undefined) throw new GoCardlessApiError({ status: response.status, code: "unexpected_response", message: `GoCardless's answer has no "${resource}"` });
    return found;
  }

  /** `GET /<resource>/:id`. */
  const get =
    <T>(resource: Resource) =>
    (id: string) =>
      call<T>("GET", resource, `/${encodeURIComponent(id)}`);
  const getPayment = get<GoCardlessPayment>("payments");
  const getCustomer = get<GoCardlessCustomer>("customers");

  /** POST with an Idempotency-Key; a conflict fetches the resource created first, as GoCardless's clients do. */
  async function create<T>(resource: Resource, fields: unknown, idempotencyKey: string, getCreated: (id: string) => Promise<T>): Promise<T> {
    try {
      return await call<T>("POST", resource, "", { fields, idempotencyKey });
    } catch (error) {
      const existing = error instanceof GoCardlessApiError && error.code === "idempotent_creation_conflict" ? error.links.conflicting_resource_id : undefined;
      if (existing === undefined) throw error;
      return getCreated(existing);
    }
  }

  return {
    createPayment: (payment) =>
      create(
        "payments",
        {
          amount: payment.amountMinor,
          currency: payment.currency,
          ...(payment.chargeDate !== undefined && { charge_date: payment.chargeDate }),
          metadata: { payment_attempt_id: payment.paymentAttemptId },
          links: { mandate: payment.mandateId },
        },
        payment.paymentAttemptId,
        getPayment,
      ),
    getPayment,
    listPayments: (query) => call<GoCardlessPayment[]>("GET", "payments", `?${new URLSearchParams(query)}`),
    cancelPayment: (id) => call<GoCardlessPayment>("POST", "payments", `/${encodeURIComponent(id)}/actions/cancel`),
    getMandate: get<GoCardlessMandate>("mandates"),
    createCustomer: (customer) =>
      create(
        "customers",
        { email: customer.email, given_name: customer.givenName, family_name: customer.familyName, metadata: { user_id: customer.userId } },
        `customer-${customer.userId}`,
        getCustomer,
      ),
    getCustomer,
  };
}
