import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import catalog from "../../billing/plans.json?raw";
import billingApiDoc from "../../docs/billing-api.md?raw";
import { app } from "../../src/app";
import type { Env } from "../../src/env";
import { expectDocumentedSuccess } from "../support/documented-answer";
import { migrateToLatest } from "../support/migrate-to-latest";
import { replayWalkThrough, shellBlocks, type Exchange } from "../support/walk-through/replay-walk-through";

// docs/billing-api.md's walk-through, replayed exactly as printed (its shell
// run by a small in-process bash, curl answered by the Worker's app): a step
// that stops working, an id the doc captures wrongly or a printed value that
// changes fails here. Every billing answer is also checked against the
// OpenAPI document's schema for its route.

const SECTION = "## Walk-through with curl";

/** The Worker's bindings as the doc's `.dev.vars` makes them, operators included (the doc's second block). */
const bindings: Env = { ...env, BILLING_OPERATOR_EMAILS: "ops@example.com" };

let replay: { output: string; exchanges: Exchange[] };

beforeAll(async () => {
  await migrateToLatest(env.DB);
  replay = await replayWalkThrough(shellBlocks(billingApiDoc, SECTION), {
    bindings,
    catalog,
    // As Cloudflare's edge (and wrangler dev) does: the client's address, which Better Auth's rate limit keys on.
    fetch: async (request, withBindings) => {
      const headers = new Headers(request.headers);
      headers.set("cf-connecting-ip", "127.0.0.1");
      return app.fetch(new Request(request, { headers }), withBindings);
    },
  });
});

describe("the billing walk-through runs top to bottom as printed", () => {
  it("has both of its blocks (the user's and the operator's)", () => {
    expect(shellBlocks(billingApiDoc, SECTION)).toHaveLength(2);
  });

  it("every request succeeds", () => {
    expect(replay.exchanges.length).toBeGreaterThan(15);
    const failed = replay.exchanges.filter((exchange) => exchange.status >= 400);
    expect(failed, replay.output).toEqual([]);
  });

  it("pays, activates and cancels the subscription it created, as it says", () => {
    const lines = replay.output.trim().split("\n");
    expect(lines).toContain('{"status":"active","isDefault":true,"accountLast4":"6789"}');
    expect(lines).toContain("active");
    expect(lines).toContain('{"status":"active","cancelAtPeriodEnd":true}');
    expect(lines).toContain('{"status":"canceled"}');
    expect(lines.some((line) => /^\{"attempts":\[\{"status":"succeeded","amountMinor":\d+\}\],"nextCursor":null\}$/.test(line))).toBe(true);
    // The operator block: created, renamed, deactivated.
    expect(lines).toContain("Team (monthly)");
    expect(lines.at(-1)).toBe("false");
  });

  it("every billing answer matches the OpenAPI document's schema for its route", () => {
    const billing = replay.exchanges.filter((exchange) => exchange.path.startsWith("/api/billing/"));
    expect(billing.length).toBeGreaterThan(10);
    for (const exchange of billing) expectDocumentedSuccess(exchange.method, exchange.path, exchange.status, exchange.body);
  });
});
