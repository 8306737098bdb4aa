import { createHmac, randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { parseArgs, parseEnv } from "node:util";
import { UsageError } from "../lib/cli-flags";
import type { CliIo } from "../lib/cli-io";
import { SCENARIOS, setUpStandInMandate, startGoCardlessStandIn } from "../lib/gocardless-stand-in";
import { readStandInUrl, STAND_IN_URL_FILE } from "../lib/stand-in-url-file";

export const USAGE = `usage: pnpm billing:simulate <resource>.<action> <id> [--attempt <payment attempt id>] [--cause <cause>] [--url http://localhost:8787] [--dev-vars .dev.vars] [--gocardless <stand-in URL>] [--webhook-only [--new-mandate <MD…>]]
       pnpm billing:simulate mandate <customer id> [--gocardless <stand-in URL>]
       pnpm billing:simulate serve [--port 4010]`;

/** The GoCardless events billing acts on (docs/gocardless.md). */
const ACTIONS = {
  payments: ["submitted", "confirmed", "paid_out", "failed", "late_failure_settled", "charged_back", "chargeback_cancelled", "chargeback_settled", "cancelled", "resubmission_requested"],
  mandates: ["active", "cancelled", "failed", "expired", "replaced", "consumed", "blocked", "reinstated", "transferred"],
} as const;

/**
 * Each mandate event's `details` origin and cause, one of the pairs GoCardless's
 * event reference lists for that action (a payment event's: `gocardless`,
 * `payment_<action>`); `--cause` replaces the cause (and the bank's reason code).
 * `cancelled` is the API's: the stand-in's move is the cancel action.
 */
const MANDATE_DETAILS: Record<string, { origin: string; cause: string; scheme?: string; reason_code?: string }> = {
  active: { origin: "gocardless", cause: "mandate_activated" },
  reinstated: { origin: "gocardless", cause: "mandate_reinstated" },
  cancelled: { origin: "api", cause: "mandate_cancelled" },
  failed: { origin: "bank", cause: "invalid_bank_details", scheme: "bacs", reason_code: "AUDDIS-5" },
  expired: { origin: "gocardless", cause: "mandate_expired" },
  consumed: { origin: "gocardless", cause: "mandate_consumed" },
  blocked: { origin: "gocardless", cause: "mandate_blocked" },
  replaced: { origin: "gocardless", cause: "scheme_identifier_changed" },
  transferred: { origin: "bank", cause: "bank_account_transferred" },
};

/**
 * `pnpm billing:simulate`: signs one GoCardless event as GoCardless does and
 * POSTs it to the Worker, or (`serve`) starts the loopback GoCardless
 * stand-in. Resolves to the exit code: 0 sent and accepted, 1 the Worker
 * refused it; rejects with a `UsageError` on bad input (nothing sent) and
 * with an Error when nothing answers.
 *
 * @example
 * ```ts
 * const code = await billingSimulate(["payments.confirmed", "PM0001", "--attempt", attemptId], consoleIo)
 * ```
 */
export async function billingSimulate(argv: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseOptions(argv);
  if (values.help) {
    io.out(USAGE);
    return 0;
  }
  if (positionals[0] === "serve") {
    if (!/^\d{1,5}$/.test(values.port) || Number(values.port) > 65535) throw new UsageError(`--port must be a port number, not '${values.port}'`);
    const standIn = await startGoCardlessStandIn({ port: Number(values.port) });
    io.out(`GoCardless stand-in listening on ${standIn.url} (Ctrl-C to stop)`);
    return 0;
  }

  // The stand-in pnpm dev serves, on whatever port it got (it notes its URL), unless given.
  const standIn = values.gocardless ?? (await readStandInUrl());
  if (positionals[0] === "mandate") return setUpMandate(positionals.slice(1), standIn ?? "http://127.0.0.1:4010", io);

  const [type, id, ...extra] = positionals;
  if (type === undefined || id === undefined || extra.length > 0) throw new UsageError("give one event type and one id");
  const [resource, action] = type.split(".", 2) as [string, string | undefined];
  const known = (ACTIONS as Record<string, readonly string[]>)[resource];
  if (!Object.hasOwn(ACTIONS, resource) || !action || !known!.includes(action)) {
    throw new UsageError(`unknown event '${type}'; one of: ${Object.entries(ACTIONS).flatMap(([r, as]) => as.map((a) => `${r}.${a}`)).join(", ")}`);
  }
  if (values.attempt !== undefined && resource !== "payments") throw new UsageError("--attempt is for payments events only");
  if (values["new-mandate"] !== undefined && !(type === "mandates.replaced" && values["webhook-only"])) {
    throw new UsageError("--new-mandate is for mandates.replaced --webhook-only (otherwise the stand-in makes the new mandate)");
  }
  // An event first moves the stand-in's payment or mandate, as the bank (or GoCardless) moves it
  // before GoCardless reports it: a cancel of a confirmed payment then answers 422 there too, and
  // a mandate stored after mandates.active is active. A transfer keeps the mandate's status.
  const moves = standIn !== undefined && !values["webhook-only"] && type !== "mandates.transferred";
  if (type === "mandates.replaced" && !moves && values["new-mandate"] === undefined) {
    throw new UsageError("mandates.replaced sent alone needs the new mandate's id: pass --webhook-only --new-mandate MD…");
  }

  const secret = await localSecret(values["dev-vars"]);
  const newMandate = moves ? await moveAtStandIn(standIn, resource as keyof typeof ACTIONS, action, id, io) : values["new-mandate"];
  const reason = resource === "mandates" ? MANDATE_DETAILS[action]! : { origin: "gocardless", cause: `payment_${action}` };
  const event = {
    id: `EV${randomBytes(6).toString("hex").toUpperCase()}`,
    created_at: new Date().toISOString(),
    resource_type: resource,
    action,
    // A replaced mandate's event names its replacement (GoCardless: links[new_mandate]).
    links: resource === "payments" ? { payment: id } : { mandate: id, ...(newMandate !== undefined && { new_mandate: newMandate }) },
    details: { ...(values.cause === undefined ? reason : { origin: reason.origin, cause: values.cause }), description: `Simulated ${type} (pnpm billing:simulate).` },
    ...(values.attempt !== undefined && { resource_metadata: { payment_attempt_id: values.attempt } }),
  };
  const rawBody = JSON.stringify({ events: [event] });
  const signature = createHmac("sha256", secret).update(rawBody).digest("hex");
  const endpoint = `${values.url.replace(/\/+$/, "")}/api/billing/webhooks/gocardless`;
  let response: Response;
  try {
    response = await fetch(endpoint, { method: "POST", body: rawBody, headers: { "Content-Type": "application/json", "Webhook-Signature": signature } });
  } catch {
    throw new Error(`nothing answers at ${endpoint}; start the Worker with \`pnpm dev\` (or pass --url)`);
  }
  io.out(`${type} ${id} (event ${event.id}) → ${response.status} ${await response.text()}`);
  return response.ok ? 0 : 1;
}

function parseOptions(argv: readonly string[]) {
  try {
    return parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        attempt: { type: "string" },
        cause: { type: "string" },
        url: { type: "string", default: "http://localhost:8787" },
        "dev-vars": { type: "string", default: ".dev.vars" },
        port: { type: "string", default: "4010" },
        gocardless: { type: "string" },
        "webhook-only": { type: "boolean" },
        "new-mandate": { type: "string" },
        help: { type: "boolean" },
      },
    });
  } catch (error) {
    // node's parseArgs says what is wrong (an unknown option, a missing value): a usage error.
    throw error instanceof TypeError ? new UsageError(error.message) : error;
  }
}

/**
 * `mandate <CU…>`: plays the payer's side at the stand-in, as a GoCardless
 * Billing Request would: a bank account for the customer
 * (`POST /customer_bank_accounts`), then a mandate on it (`POST /mandates`).
 * Prints the mandate id, which the Worker accepts only for that customer's user.
 */
async function setUpMandate(args: string[], base: string, io: CliIo): Promise<number> {
  const [customer, ...extra] = args;
  if (customer === undefined || extra.length > 0) throw new UsageError("give one customer id (CU…), the one POST /api/billing/provider-customers answered");
  io.out(await setUpStandInMandate(base, customer));
  return 0;
}

/**
 * Moves the stand-in's payment or mandate as the event says it moved: GoCardless's
 * scenario simulator (`POST /scenario_simulators/<identity>/actions/run`:
 * `payment_<action>`, `mandate_activated` for `mandates.active`, else
 * `mandate_<action>`), or for `mandates.cancelled` the cancel action
 * (`POST /mandates/:id/actions/cancel`), reading the resource's status first so
 * the line says what moved. Resolves to a replaced mandate's replacement
 * (`links.new_mandate`), else undefined. Throws when the stand-in cannot be
 * reached, holds no such resource, or refuses the move (GoCardless would not
 * send that event for it as it is): nothing is sent then.
 */
async function moveAtStandIn(base: string, resource: keyof typeof ACTIONS, action: string, id: string, io: CliIo): Promise<string | undefined> {
  const root = base.replace(/\/+$/, "");
  const headers = { Authorization: "Bearer local-stand-in", "GoCardless-Version": "2015-07-06", "Content-Type": "application/json" };
  const send = (path: string, body?: unknown) =>
    fetch(`${root}${path}`, { method: body === undefined ? "GET" : "POST", headers, body: body === undefined ? undefined : JSON.stringify(body) }).catch(() => {
      throw new Error(`nothing answers at ${root} (the GoCardless stand-in noted in ${STAND_IN_URL_FILE} or --gocardless); start \`pnpm dev\`, or pass --webhook-only`);
    });
  const fix = "Pass --webhook-only to send the event alone (a redelivery, or events out of order)";
  const read = async (path: string) => {
    const found = await send(path);
    if (found.status === 404) throw new Error(`the GoCardless stand-in at ${root} has no ${resource.slice(0, -1)} ${id}; nothing sent. ${fix}`);
    return ((await found.json()) as Record<string, { status: string; links?: { new_mandate?: string } }>)[resource]!;
  };
  const type = `${resource}.${action}`;
  const at = `/${resource}/${encodeURIComponent(id)}`;
  const before = (await read(at)).status;
  const identity = resource === "payments" ? `payment_${action}` : action === "active" ? "mandate_activated" : `mandate_${action}`;
  const [path, to] =
    type === "mandates.cancelled"
      ? [`${at}/actions/cancel`, "cancelled"]
      : [`/scenario_simulators/${identity}/actions/run`, SCENARIOS[identity]![0]];
  const moved = await send(path, path.endsWith("/cancel") ? {} : { data: { links: { resource: id } } });
  if (moved.status === 422) throw new Error(`the GoCardless stand-in refused ${type} for ${id}: it is ${before} (GoCardless would not send it); nothing sent. ${fix}`);
  if (!moved.ok) throw new Error(`the GoCardless stand-in answered ${moved.status} to ${path}; nothing sent`);
  // GoCardless names a replaced mandate's replacement in its links.new_mandate.
  const replacement = action === "replaced" ? (await read(at)).links?.new_mandate : undefined;
  const made = replacement === undefined ? "" : `, replaced by ${replacement} (${(await read(`/mandates/${encodeURIComponent(replacement)}`)).status})`;
  io.out(`gocardless stand-in: ${id} ${before} → ${to}${made}`);
  return replacement;
}

/** The first WEBHOOK_SECRET_GOCARDLESS of the local .dev.vars: the secret `pnpm dev` verifies with. */
async function localSecret(devVarsPath: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(devVarsPath, "utf8");
  } catch {
    throw new UsageError(`cannot read ${devVarsPath}; run \`pnpm dev\` once (it creates it) or pass --dev-vars`);
  }
  const secret = (parseEnv(text).WEBHOOK_SECRET_GOCARDLESS ?? "").split(",")[0]!.trim();
  if (!secret) throw new UsageError(`${devVarsPath} has no WEBHOOK_SECRET_GOCARDLESS; add one (see .dev.vars.example)`);
  return secret;
}

