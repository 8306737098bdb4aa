import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";

/**
 * A minimal stand-in for GoCardless's API on loopback, for `pnpm dev` without
 * a real access token: `POST /payments` (with GoCardless's Idempotency-Key
 * rule: a reused key answers 409 `idempotent_creation_conflict` naming the
 * payment), `GET /payments/:id` and `GET /mandates/:id` (every mandate is
 * `active` and belongs to `customer`). Request and response shapes follow
 * GoCardless's API reference; state lives in memory only. Each request is
 * logged as one line.
 *
 * @example
 * ```ts
 * const standIn = await startGoCardlessStandIn({ port: 0 })
 * console.log(standIn.url) // http://127.0.0.1:54321
 * await standIn.close()
 * ```
 */
export async function startGoCardlessStandIn(options: { port: number; customer?: string; log?: (line: string) => void }): Promise<{ url: string; close: () => Promise<void> }> {
  const customer = options.customer ?? "CU000LOCAL0000";
  const log = options.log ?? ((line: string) => console.log(line));
  const payments = new Map<string, Record<string, unknown>>();
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
    if (request.method === "POST" && url.pathname === "/payments") {
      const key = request.headers["idempotency-key"];
      const existing = typeof key === "string" ? byIdempotencyKey.get(key) : undefined;
      if (existing) {
        const conflict = gcError(409, "invalid_state", "idempotent_creation_conflict", "A resource has already been created with this idempotency key");
        conflict.error.errors[0]!.links = { conflicting_resource_id: existing };
        return status(409, conflict);
      }
      const input = (JSON.parse(body || "{}") as { payments?: Record<string, any> }).payments;
      if (!input || !Number.isInteger(input.amount) || input.amount <= 0 || typeof input.currency !== "string" || typeof input.links?.mandate !== "string") {
        return status(422, gcError(422, "validation_failed", "validation_failed", "Validation failed"));
      }
      const id = `PM${randomBytes(8).toString("hex").toUpperCase().slice(0, 12)}`;
      const payment = {
        id,
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
      payments.set(id, payment);
      if (typeof key === "string") byIdempotencyKey.set(key, id);
      response.setHeader("Location", `/payments/${id}`);
      return status(201, { payments: payment });
    }
    const payment = /^\/payments\/([^/]+)$/.exec(url.pathname);
    if (request.method === "GET" && payment) {
      const found = payments.get(decodeURIComponent(payment[1]!));
      return found ? status(200, { payments: found }) : status(404, gcError(404, "invalid_api_usage", "resource_not_found", "Resource not found"));
    }
    const mandate = /^\/mandates\/([^/]+)$/.exec(url.pathname);
    if (request.method === "GET" && mandate) {
      return status(200, {
        mandates: {
          id: decodeURIComponent(mandate[1]!),
          created_at: new Date().toISOString(),
          reference: "LOCAL-STAND-IN",
          scheme: "bacs",
          status: "active",
          next_possible_charge_date: new Date(Date.now() + 3 * 86_400_000).toISOString().slice(0, 10),
          metadata: {},
          links: { customer_bank_account: "BA000LOCAL0000", creditor: "CR000LOCAL0000", customer },
        },
      });
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

function gcError(code: number, type: string, reason: string, message: string) {
  return {
    error: {
      message,
      documentation_url: `https://developer.gocardless.com/api-reference#${reason}`,
      type,
      request_id: randomBytes(13).toString("hex").toUpperCase(),
      code,
      errors: [{ reason, message } as { reason: string; message: string; links?: Record<string, string> }],
    },
  };
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
