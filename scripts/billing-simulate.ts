/**
 * `pnpm billing:simulate`: GoCardless on your machine, like `stripe trigger`.
 *
 *   pnpm billing:simulate <resource>.<action> <id> [--attempt <id>] [--cause <cause>] [--url <worker>]
 *     Signs a one-event GoCardless delivery with the local endpoint secret
 *     (WEBHOOK_SECRET_GOCARDLESS in .dev.vars) exactly as GoCardless signs it,
 *     and POSTs it to the running `pnpm dev`. <id> is the payment (PM…) or
 *     mandate (MD…) id; --attempt puts our payment attempt id in the event's
 *     resource_metadata, as GoCardless copies a payment's metadata.
 *
 *   pnpm billing:simulate serve [--port <n>]
 *     Serves a loopback stand-in of GoCardless's payments and mandates API
 *     (what `pnpm dev` starts by itself when no GOCARDLESS_ACCESS_TOKEN is set).
 */
import { createHmac, randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { parseArgs, parseEnv } from "node:util";
import { UsageError } from "./lib/cli-flags";
import { exitWithError } from "./lib/exit-with-error";
import { startGoCardlessStandIn } from "./lib/gocardless-stand-in";

const USAGE = `usage: pnpm billing:simulate <resource>.<action> <id> [--attempt <payment attempt id>] [--cause <cause>] [--url http://localhost:8787] [--dev-vars .dev.vars]
       pnpm billing:simulate serve [--port 4010]`;

/** The GoCardless events billing acts on (docs/gocardless.md). */
const ACTIONS = {
  payments: ["submitted", "confirmed", "paid_out", "failed", "late_failure_settled", "charged_back", "chargeback_cancelled", "chargeback_settled", "cancelled", "resubmission_requested"],
  mandates: ["active", "cancelled", "failed", "expired", "replaced", "consumed", "blocked", "reinstated", "transferred"],
} as const;

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      attempt: { type: "string" },
      cause: { type: "string" },
      url: { type: "string", default: "http://localhost:8787" },
      "dev-vars": { type: "string", default: ".dev.vars" },
      port: { type: "string", default: "4010" },
      help: { type: "boolean" },
    },
  });
  if (values.help) return void console.log(USAGE);
  if (positionals[0] === "serve") {
    if (!/^\d{1,5}$/.test(values.port) || Number(values.port) > 65535) throw new UsageError(`--port must be a port number, not '${values.port}'`);
    const standIn = await startGoCardlessStandIn({ port: Number(values.port) });
    console.log(`GoCardless stand-in listening on ${standIn.url} (Ctrl-C to stop)`);
    return;
  }

  const [type, id, ...extra] = positionals;
  if (type === undefined || id === undefined || extra.length > 0) throw new UsageError("give one event type and one id");
  const [resource, action] = type.split(".", 2) as [string, string | undefined];
  const known = (ACTIONS as Record<string, readonly string[]>)[resource];
  if (!Object.hasOwn(ACTIONS, resource) || !action || !known!.includes(action)) {
    throw new UsageError(`unknown event '${type}'; one of: ${Object.entries(ACTIONS).flatMap(([r, as]) => as.map((a) => `${r}.${a}`)).join(", ")}`);
  }
  if (values.attempt !== undefined && resource !== "payments") throw new UsageError("--attempt is for payments events only");

  const secret = await localSecret(values["dev-vars"]);
  const event = {
    id: `EV${randomBytes(6).toString("hex").toUpperCase()}`,
    created_at: new Date().toISOString(),
    resource_type: resource,
    action,
    links: { [resource === "payments" ? "payment" : "mandate"]: id },
    details: { origin: "gocardless", cause: values.cause ?? `${resource.slice(0, -1)}_${action}`, description: `Simulated ${type} (pnpm billing:simulate).` },
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
  console.log(`${type} ${id} (event ${event.id}) → ${response.status} ${await response.text()}`);
  if (!response.ok) process.exitCode = 1;
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

main(process.argv.slice(2)).catch((error: unknown) => exitWithError(error instanceof TypeError && /argument|option/i.test(error.message) ? new UsageError(error.message) : error, USAGE));
