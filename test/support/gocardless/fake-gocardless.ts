import { env } from "cloudflare:workers";
import { idempotentCreationConflictBody, mandateBody, resourceNotFoundBody as notFoundBody } from "./api-fixtures";

/**
 * GoCardless's customers and mandates endpoints, in memory, at the network
 * edge: `globalThis.fetch` of this isolate (the Worker's and the tests') is
 * wrapped so requests to `env.GOCARDLESS_API_URL` are answered here, with
 * bodies in the API reference's shapes; everything else goes to the real
 * fetch. A plain wrapper, not a vitest spy, so a test's own
 * `vi.spyOn(globalThis, "fetch")` and `vi.restoreAllMocks()` stack on top of it.
 *
 * - `POST /customers` → 201 `{"customers": {…}}`; a reused Idempotency-Key → 409
 *   `idempotent_creation_conflict` naming the first customer
 * - `GET /customers/:id`, `GET /mandates/:id` → 200, or 404 `resource_not_found`
 *
 * Mandates exist only when a test sets one up for a customer
 * ({@link addFakeMandate}), as a Billing Request would at GoCardless.
 */
export interface FakeRequest {
  method: string;
  path: string;
  headers: Headers;
  body: any;
}

const customers = new Map<string, Record<string, unknown>>();
const customerByKey = new Map<string, string>();
const mandates = new Map<string, { customer: string; status: string }>();
/** Every request the fake answered, oldest first. */
export const fakeGoCardlessRequests: FakeRequest[] = [];

const INSTALLED = Symbol.for("billing.fakeGoCardless");

/** Wraps `globalThis.fetch` once per isolate (again if something replaced it). */
export function installFakeGoCardless(): void {
  const current = globalThis.fetch as typeof fetch & { [INSTALLED]?: true };
  if (current[INSTALLED]) return;
  const fake = Object.assign(
    async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
      const request = new Request(input, init);
      const base = env.GOCARDLESS_API_URL.replace(/\/+$/, "");
      if (!request.url.startsWith(`${base}/`)) return current(input, init);
      return answer(request, request.url.slice(base.length));
    },
    { [INSTALLED]: true as const },
  );
  globalThis.fetch = fake;
}

/**
 * A new mandate at the fake GoCardless, belonging to `customerId`, in `status`
 * (GoCardless's mandate statuses); returns its id (`MD…`). By default
 * `pending_submission`, as GoCardless reports a mandate its payer has just set
 * up: stored `pending`, then made `active` by its `mandates.active` webhook.
 */
export function addFakeMandate(customerId: string, status = "pending_submission"): string {
  const id = `MD${randomId()}`;
  mandates.set(id, { customer: customerId, status });
  return id;
}

async function answer(request: Request, path: string): Promise<Response> {
  const text = await request.text();
  const body = text ? JSON.parse(text) : undefined;
  fakeGoCardlessRequests.push({ method: request.method, path, headers: request.headers, body });
  if (request.method === "POST" && path === "/customers") {
    const key = request.headers.get("idempotency-key");
    const first = key ? customerByKey.get(key) : undefined;
    if (first) return json(idempotentCreationConflictBody(first), 409);
    const input = body.customers as Record<string, unknown>;
    const customer = customerBody(`CU${randomId()}`, input);
    customers.set(customer.id, customer);
    if (key) customerByKey.set(key, customer.id);
    return json({ customers: customer }, 201);
  }
  const customer = /^\/customers\/([^/]+)$/.exec(path);
  if (request.method === "GET" && customer) {
    const found = customers.get(decodeURIComponent(customer[1]!));
    return found ? json({ customers: found }) : json(notFoundBody, 404);
  }
  const mandate = /^\/mandates\/([^/]+)$/.exec(path);
  if (request.method === "GET" && mandate) {
    const id = decodeURIComponent(mandate[1]!);
    const found = mandates.get(id);
    return found ? json(mandateBody(id, found.customer, found.status)) : json(notFoundBody, 404);
  }
  throw new Error(`the fake GoCardless has no ${request.method} ${path}`);
}

/** The API reference's customer resource (its "Create a customer" example's fields). */
function customerBody(id: string, input: Record<string, unknown>) {
  return {
    id,
    created_at: new Date().toISOString(),
    email: (input.email as string) ?? null,
    given_name: (input.given_name as string) ?? null,
    family_name: (input.family_name as string) ?? null,
    company_name: null,
    address_line1: null,
    address_line2: null,
    address_line3: null,
    city: null,
    region: null,
    postal_code: null,
    country_code: null,
    language: "en",
    phone_number: null,
    swedish_identity_number: null,
    danish_identity_number: null,
    metadata: (input.metadata as Record<string, string>) ?? {},
  };
}

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

function randomId(): string {
  return crypto.randomUUID().replace(/-/g, "").slice(0, 12).toUpperCase();
}
