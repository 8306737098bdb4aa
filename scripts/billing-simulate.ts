/**
 * `pnpm billing:simulate`: GoCardless on your machine, like `stripe trigger`.
 *
 *   pnpm billing:simulate <resource>.<action> <id> [--attempt <id>] [--cause <cause>] [--url <worker>]
 *     Signs a one-event GoCardless delivery with the local endpoint secret
 *     (WEBHOOK_SECRET_GOCARDLESS in .dev.vars) exactly as GoCardless signs it,
 *     and POSTs it to the running `pnpm dev`. <id> is the payment (PM…) or
 *     mandate (MD…) id; --attempt puts our payment attempt id in the event's
 *     resource_metadata, as GoCardless copies a payment's metadata. An event
 *     first moves the stand-in's payment or mandate (GoCardless's scenario
 *     simulators; mandates.replaced makes the new mandate the event links),
 *     unless --webhook-only (then --new-mandate names a replaced mandate's
 *     replacement); the stand-in is the one `pnpm dev` noted in
 *     .wrangler/gocardless-stand-in.url, or --gocardless.
 *
 *   pnpm billing:simulate serve [--port <n>]
 *     Serves a loopback stand-in of GoCardless's payments and mandates API
 *     (what `pnpm dev` starts by itself when no GOCARDLESS_ACCESS_TOKEN is set).
 */
import { billingSimulate, USAGE } from "./commands/billing-simulate";
import { consoleIo } from "./lib/cli-io";
import { exitWithError } from "./lib/exit-with-error";

// exitCode, not exit(): `serve` keeps the process alive while its server listens.
billingSimulate(process.argv.slice(2), consoleIo).then((code) => void (process.exitCode = code), (error: unknown) => exitWithError(error, USAGE));
