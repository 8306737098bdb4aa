import { randomBytes, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";

/**
 * A minimal stand-in for GoCardless's API on loopback, for `pnpm dev` without
 * a real access token. Request and response shapes follow GoCardless's API
 * reference; state lives in memory only; each request is logged as one line.
 *
 * - `POST /customers`, `POST /payments` with GoCardless's Idempotency-Key
 *   rule (a reused key answers 409 `idempotent_creation_conflict` naming the
 *   resource created first); `GET /customers/:id`, `GET /payments/:id`
 * - `POST /customer_bank_accounts` (`links.customer`) and `POST /mandates`
 *   (`links.customer_bank_account`): how a mandate comes to belong to a
 *   customer; `GET /mandates/:id` answers its `links.customer`, and an
 *   unknown mandate is a 404, as at GoCardless
 * - `GET /payments?mandate=…` (one page, `{"payments": […], "meta": …}`) and
 *   `POST /payments/:id/actions/cancel` (a `pending_submission` payment becomes
 *   `cancelled`; any other answers 422 `cancellation_failed`, {@link cancellationFailed})
 * - `POST /mandates/:id/actions/cancel`: the mandate and its `pending_submission`
 *   payments become `cancelled` (again: 422 `cancellation_failed`); what
 *   `pnpm billing:simulate mandates.cancelled` runs before it sends the event. A
 *   payment on a mandate that is `cancelled` (or `failed`, `expired`, `consumed`,
 *   `blocked`) is refused 422 `mandate_is_inactive`, on a replaced one 422
 *   `mandate_replaced` naming `links.new_mandate`, as GoCardless refuses them
 * - `POST /scenario_simulators/:identity/actions/run` with
 *   `{"data": {"links": {"resource": "PM…" or "MD…"}}}`, GoCardless's sandbox
 *   endpoint that moves a payment or mandate as the bank would
 *   (`payment_confirmed`, `payment_failed`, `mandate_activated`, …;
 *   {@link PAYMENT_SCENARIOS}, {@link MANDATE_SCENARIOS}): what
 *   `pnpm billing:simulate payments.<action>` / `mandates.<action>` runs before
 *   it sends the event, so the stand-in's payments and mandates say what the
 *   simulated events said
 *
 * @example
 * ```ts
 * const standIn = await startGoCardlessStandIn({ port: 0 })
 * console.log(standIn.url) // http://127.0.0.1:54321
 * await standIn.close()
 * ```
 */
export async function startGoCardlessStandIn(options: { port: number; log?: (line: string) => void }): Promise<{ url: string; close: () => Promise<void> }> {
  const log = options.log ?? ((line: string) => console.log(line));
  const resources: Resources = { payments: new Map(), customers: new Map(), customer_bank_accounts: new Map(), mandates: new Map() };
  // GoCardless scopes idempotency keys per resource type.
  const byIdempotencyKey = new Map<string, string>();

  const server = createServer((request, response) => {
    void handle(request, response).catch((error: unknown) => answer(response, 500, gcError(500, "api_error", "internal_server_error", String(error))));
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? "/", "http://stand-in");
    const body = await readBody(request);
    const status = (code: number, payload: unknown) => {
      log(`gocardless stand-in: ${request.method} ${url.pathname} → ${code}`);
      answer(response, code, payload);
    };
    if (!/^Bearer \S+$/.test(request.headers.authorization ?? "")) {
      return status(401, gcError(401, "invalid_api_usage", "missing_authorization_header", "Authorization header is missing or malformed"));
    }
    if (!request.headers["gocardless-version"]) {
      return status(400, gcError(400, "invalid_api_usage", "missing_version_header", "GoCardless-Version header is required"));
    }
    const collection = /^\/(payments|customers|customer_bank_accounts|mandates)$/.exec(url.pathname)?.[1] as keyof Resources | undefined;
    if (request.method === "POST" && collection) {
      const key = request.headers["idempotency-key"];
      const scopedKey = typeof key === "string" ? `${collection} ${key}` : undefined;
      const existing = scopedKey ? byIdempotencyKey.get(scopedKey) : undefined;
      if (existing) {
        const conflict = gcError(409, "invalid_state", "idempotent_creation_conflict", "A resource has already been created with this idempotency key");
        conflict.error.errors[0]!.links = { conflicting_resource_id: existing };
        return status(409, conflict);
      }
      let input: Record<string, any> | undefined;
      try {
        input = (JSON.parse(body || "{}") as Record<string, Record<string, any> | undefined>)[collection];
      } catch {
        input = undefined;
      }
      // GoCardless takes no payment on a mandate that can no longer be charged; a replaced one's
      // refusal names its replacement ("mandate_replaced": the new mandate is in links[new_mandate]).
      const mandate = collection === "payments" ? resources.mandates.get(input?.links?.mandate) : undefined;
      if (mandate?.links.new_mandate) {
        const replaced = gcError(422, "invalid_state", "mandate_replaced", "The mandate for this payment has been replaced");
        replaced.error.errors[0]!.links = { new_mandate: mandate.links.new_mandate };
        return status(422, replaced);
      }
      if (mandate && INACTIVE_MANDATE.includes(mandate.status)) {
        return status(422, gcError(422, "invalid_state", "mandate_is_inactive", `The mandate for this payment is ${mandate.status}`));
      }
      const created = input && CREATE[collection](input, resources);
      if (!created) return status(422, gcError(422, "validation_failed", "validation_failed", "Validation failed"));
      resources[collection].set(created.id as string, created);
      if (scopedKey) byIdempotencyKey.set(scopedKey, created.id as string);
      response.setHeader("Location", `/${collection}/${created.id}`);
      return status(201, { [collection]: created });
    }
    if (request.method === "GET" && url.pathname === "/payments") {
      const mandate = url.searchParams.get("mandate");
      const listed = [...resources.payments.values()].filter((payment) => mandate === null || payment.links?.mandate === mandate);
      return status(200, { payments: listed, meta: { cursors: { before: null, after: null }, limit: Number(url.searchParams.get("limit") ?? 50) } });
    }
    const cancelMandate = /^\/mandates\/([^/]+)\/actions\/cancel$/.exec(url.pathname);
    if (request.method === "POST" && cancelMandate) {
      const mandate = resources.mandates.get(decodeURIComponent(cancelMandate[1]!));
      if (!mandate) return status(404, gcError(404, "invalid_api_usage", "resource_not_found", "Resource not found"));
      if (mandate.status === "cancelled") return status(422, cancellationFailed("Mandate"));
      mandate.status = "cancelled";
      // "Immediately cancels a mandate and all associated cancellable payments."
      for (const payment of resources.payments.values()) if (payment.links.mandate === mandate.id && payment.status === "pending_submission") payment.status = "cancelled";
      return status(200, { mandates: mandate });
    }
    const cancel = /^\/payments\/([^/]+)\/actions\/cancel$/.exec(url.pathname);
    if (request.method === "POST" && cancel) {
      const payment = resources.payments.get(decodeURIComponent(cancel[1]!));
      if (!payment) return status(404, gcError(404, "invalid_api_usage", "resource_not_found", "Resource not found"));
      if (payment.status !== "pending_submission") return status(422, cancellationFailed("Payment"));
      payment.status = "cancelled";
      return status(200, { payments: payment });
    }
    const scenario = /^\/scenario_simulators\/([^/]+)\/actions\/run$/.exec(url.pathname);
    if (request.method === "POST" && scenario) {
      const identity = decodeURIComponent(scenario[1]!);
      let resource: unknown;
      try {
        resource = (JSON.parse(body || "{}") as { data?: { links?: { resource?: unknown } } }).data?.links?.resource;
      } catch {
        resource = undefined;
      }
      const rule = Object.hasOwn(SCENARIOS, identity) ? SCENARIOS[identity] : undefined;
      if (!rule) return status(404, gcError(404, "invalid_api_usage", "resource_not_found", `No scenario simulator ${identity}`));
      const [to, from] = rule;
      const kind = identity.startsWith("payment_") ? "payments" : "mandates";
      const moved = typeof resource === "string" ? resources[kind].get(resource) : undefined;
      if (!moved) return status(422, gcError(422, "validation_failed", "validation_failed", `links.resource must be a ${kind.slice(0, -1)} of this account`));
      // A replaced mandate stays replaced: GoCardless charges and reinstates its replacement instead.
      if (!from.includes(moved.status) || moved.links.new_mandate) {
        return status(422, gcError(422, "invalid_state", "invalid_state", `it is ${moved.status} (${identity} needs ${from.join(" or ")})`));
      }
      if (identity === "mandate_replaced") {
        // A new mandate on the same bank account, set up as far as the old one was (the payer
        // authorised nothing new); the old one, cancelled, names it in links.new_mandate.
        const replacement = { ...structuredClone(moved), id: newId("MD"), created_at: new Date().toISOString() };
        resources.mandates.set(replacement.id, replacement);
        moved.links.new_mandate = replacement.id;
      }
      moved.status = to;
      return status(200, { scenario_simulators: { id: identity } });
    }
    const single = /^\/(payments|customers|customer_bank_accounts|mandates)\/([^/]+)$/.exec(url.pathname);
    if (request.method === "GET" && single) {
      const found = resources[single[1] as keyof Resources].get(decodeURIComponent(single[2]!));
      return found ? status(200, { [single[1]!]: found }) : status(404, gcError(404, "invalid_api_usage", "resource_not_found", "Resource not found"));
    }
    return status(404, gcError(404, "invalid_api_usage", "path_not_found", "Path not found"));
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    // Loopback only: nothing outside this machine can reach the stand-in.
    server.listen(options.port, "127.0.0.1", resolve);
  });
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/**
 * Plays the payer's side at a running stand-in, as a GoCardless Billing
 * Request would: a bank account for `customer` (`POST /customer_bank_accounts`),
 * then a mandate on it (`POST /mandates`). Resolves to the mandate id.
 *
 * @example
 * ```ts
 * const mandateId = await setUpStandInMandate("http://127.0.0.1:4010", "CU…")
 * ```
 */
export async function setUpStandInMandate(url: string, customer: string): Promise<string> {
  const base = url.replace(/\/+$/, "");
  const post = async (path: string, body: unknown) => {
    let response: Response;
    try {
      response = await fetch(`${base}${path}`, {
        method: "POST",
        body: JSON.stringify(body),
        headers: { Authorization: "Bearer local-stand-in", "GoCardless-Version": "2015-07-06", "Content-Type": "application/json" },
      });
    } catch {
      throw new Error(`nothing answers at ${base}; start \`pnpm dev\` without a GOCARDLESS_ACCESS_TOKEN (it serves the stand-in) or pass --gocardless`);
    }
    const answer = (await response.json().catch(() => ({}))) as Record<string, { id?: string; message?: string }>;
    return { status: response.status, answer };
  };
  const account = await post("/customer_bank_accounts", {
    customer_bank_accounts: { account_holder_name: "Local Payer", account_number: "55779911", branch_code: "200000", country_code: "GB", links: { customer } },
  });
  if (account.status === 422) throw new Error(`the stand-in has no customer ${customer}; create it with POST /api/billing/provider-customers first`);
  if (account.status !== 201) throw new Error(`the stand-in refused the bank account: ${account.status} ${account.answer.error?.message ?? ""}`.trim());
  const mandate = await post("/mandates", { mandates: { scheme: "bacs", links: { customer_bank_account: account.answer.customer_bank_accounts!.id } } });
  if (mandate.status !== 201) throw new Error(`the stand-in refused the mandate: ${mandate.status} ${mandate.answer.error?.message ?? ""}`.trim());
  return mandate.answer.mandates!.id!;
}

/**
 * What each payment scenario does at the stand-in: the status it leaves the
 * payment in, and the statuses it may start from (GoCardless's payment
 * lifecycle: an event it would not send for a payment in another status is
 * refused with 422 `invalid_state`). GoCardless's sandbox has simulators for
 * most of these (`payment_confirmed`, `payment_failed`, `payment_charged_back`,
 * …); the others are what its API or the bank do (`payment_cancelled`: the
 * cancel action; `payment_resubmission_requested`: the retry action, back to
 * `pending_submission`; `payment_chargeback_cancelled`: the payer's bank gives
 * the money back, `paid_out` again). A `failed` after `confirmed` or `paid_out`
 * is a late failure. The two settlements settle a reversal that stands, in a
 * payout, and keep the payment's status (`payment_chargeback_settled`: still
 * `charged_back`), so neither runs once the reversal is undone.
 */
export const PAYMENT_SCENARIOS = {
  payment_submitted: ["submitted", ["pending_submission"]],
  payment_confirmed: ["confirmed", ["pending_submission", "submitted"]],
  payment_paid_out: ["paid_out", ["pending_submission", "submitted", "confirmed"]],
  payment_failed: ["failed", ["pending_submission", "submitted", "confirmed", "paid_out"]],
  payment_late_failure_settled: ["failed", ["failed"]],
  payment_charged_back: ["charged_back", ["confirmed", "paid_out"]],
  payment_chargeback_cancelled: ["paid_out", ["charged_back"]],
  payment_chargeback_settled: ["charged_back", ["charged_back"]],
  payment_cancelled: ["cancelled", ["pending_customer_approval", "pending_submission"]],
  payment_resubmission_requested: ["pending_submission", ["failed"]],
} as const satisfies Record<string, readonly [string, readonly string[]]>;

/**
 * What each mandate scenario does at the stand-in, as {@link PAYMENT_SCENARIOS}
 * for payments: the status it leaves the mandate in and the statuses it may
 * start from (GoCardless's mandate statuses: `pending_customer_approval`,
 * `pending_submission`, `submitted`, `active`, `suspended_by_payer`, `failed`,
 * `cancelled`, `expired`, `consumed`, `blocked`). GoCardless's sandbox has
 * `mandate_activated` (from `pending_submission` or `submitted`),
 * `mandate_failed` (the same: a mandate fails while being set up) and
 * `mandate_expired` (its simulator starts from `pending_submission` and goes
 * through `active`; dormancy ends an `active` one). The others are what the
 * banks or GoCardless do: `mandate_reinstated` brings a `cancelled` or
 * `expired` mandate back (the reinstate action, then the banks' acceptance);
 * `mandate_consumed` uses up a mandate that could be charged; `mandate_blocked`
 * stops one being set up (a block list); `mandate_replaced` (a new scheme
 * identifier) cancels one that could be charged and makes its replacement,
 * `links.new_mandate`. `mandates.cancelled` is the cancel action, not a scenario.
 */
export const MANDATE_SCENARIOS = {
  mandate_activated: ["active", ["pending_submission", "submitted"]],
  mandate_failed: ["failed", ["pending_submission", "submitted"]],
  mandate_expired: ["expired", ["pending_submission", "active"]],
  mandate_reinstated: ["active", ["cancelled", "expired"]],
  mandate_consumed: ["consumed", ["pending_submission", "submitted", "active"]],
  mandate_blocked: ["blocked", ["pending_customer_approval", "pending_submission"]],
  mandate_replaced: ["cancelled", ["pending_submission", "submitted", "active"]],
} as const satisfies Record<string, readonly [string, readonly string[]]>;

/** Every scenario the stand-in runs, by identity: `[status after, statuses before]`. */
export const SCENARIOS: Record<string, readonly [string, readonly string[]]> = { ...PAYMENT_SCENARIOS, ...MANDATE_SCENARIOS };

/** Mandate statuses GoCardless takes no new payment on (422 `mandate_is_inactive`). */
const INACTIVE_MANDATE = ["cancelled", "failed", "expired", "consumed", "blocked"];

type Resources = { [name in "payments" | "customers" | "customer_bank_accounts" | "mandates"]: Map<string, Record<string, any>> };

/**
 * Each resource as GoCardless's API reference shows it, from a create
 * request's params; undefined when the params would fail GoCardless's validation.
 */
const CREATE: { [name in keyof Resources]: (input: Record<string, any>, resources: Resources) => Record<string, unknown> | undefined } = {
  payments(input) {
    if (!Number.isInteger(input.amount) || input.amount <= 0 || typeof input.currency !== "string" || typeof input.links?.mandate !== "string") return undefined;
    return {
      id: newId("PM"),
      created_at: new Date().toISOString(),
      charge_date: input.charge_date ?? new Date(Date.now() + 3 * 86_400_000).toISOString().slice(0, 10),
      amount: input.amount,
      description: null,
      currency: input.currency,
      status: "pending_submission",
      amount_refunded: 0,
      reference: null,
      metadata: input.metadata ?? {},
      links: { mandate: input.links.mandate, creditor: "CR000LOCAL0000" },
      retry_if_possible: true,
    };
  },
  customers(input) {
    if (typeof input.email !== "string" && typeof input.company_name !== "string" && typeof input.given_name !== "string") return undefined;
    return {
      id: newId("CU"),
      created_at: new Date().toISOString(),
      email: input.email ?? null,
      given_name: input.given_name ?? null,
      family_name: input.family_name ?? null,
      company_name: input.company_name ?? null,
      address_line1: null,
      city: null,
      postal_code: null,
      country_code: input.country_code ?? null,
      language: "en",
      metadata: input.metadata ?? {},
    };
  },
  customer_bank_accounts(input, resources) {
    if (!resources.customers.has(input.links?.customer)) return undefined;
    return {
      id: newId("BA"),
      created_at: new Date().toISOString(),
      account_holder_name: input.account_holder_name ?? "Local Payer",
      account_number_ending: String(input.account_number ?? "11").slice(-2),
      country_code: input.country_code ?? "GB",
      currency: input.currency ?? "GBP",
      bank_name: "LOCAL STAND-IN BANK",
      enabled: true,
      metadata: input.metadata ?? {},
      links: { customer: input.links.customer },
    };
  },
  mandates(input, resources) {
    const account = resources.customer_bank_accounts.get(input.links?.customer_bank_account);
    if (!account) return undefined;
    return {
      id: newId("MD"),
      created_at: new Date().toISOString(),
      reference: `LOCAL-${newId("").slice(0, 6)}`,
      scheme: input.scheme ?? "bacs",
      status: "pending_submission",
      next_possible_charge_date: new Date(Date.now() + 3 * 86_400_000).toISOString().slice(0, 10),
      metadata: input.metadata ?? {},
      links: { customer_bank_account: account.id, creditor: "CR000LOCAL0000", customer: account.links.customer },
    };
  },
};

function newId(prefix: string): string {
  return `${prefix}${randomBytes(8).toString("hex").toUpperCase().slice(0, 12)}`;
}

/**
 * GoCardless's error body: `{"error": {message, documentation_url, type,
 * request_id, code, errors: [{reason, message}]}}`, the status repeated as
 * `code`, the first reason's anchor in the documentation URL. The request id
 * is a UUID, as in the API reference's error examples and the official
 * clients' tests (gocardless-pro-python tests/fixtures/*_error.json,
 * gocardless-pro-ruby spec/error_spec.rb); it is opaque, so nothing may parse it.
 */
function gcError(code: number, type: string, reason: string, message: string) {
  return {
    error: {
      message,
      documentation_url: `https://developer.gocardless.com/api-reference#${reason}`,
      type,
      request_id: randomUUID(),
      code,
      errors: [{ reason, message } as { reason: string; message: string; links?: Record<string, string> }],
    },
  };
}

/**
 * 422 for a cancel GoCardless refuses: a payment no longer `pending_submission`,
 * a mandate cancelled already. The API reference (the cancel actions' text, in
 * every official client: "This will fail with a `cancellation_failed` error
 * unless the payment's status is `pending_submission`" / "if the mandate is
 * already cancelled"; the `invalid_state` type: "a payment you are trying to
 * cancel might already have been submitted") and the official Node client's
 * fixture of exactly this answer (gocardless/gocardless-nodejs,
 * src/fixtures/invalid_state.json: "Payment cannot be cancelled"). The
 * mandate's message follows the payment's: no published example was found.
 */
function cancellationFailed(resource: "Payment" | "Mandate") {
  return gcError(422, "invalid_state", "cancellation_failed", `${resource} cannot be cancelled`);
}

function answer(response: ServerResponse, status: number, payload: unknown): void {
  response.writeHead(status, { "Content-Type": "application/json" });
  response.end(JSON.stringify(payload));
}

async function readBody(request: IncomingMessage): Promise<string> {
  let body = "";
  for await (const chunk of request) body += chunk;
  return body;
}
