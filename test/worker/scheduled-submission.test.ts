import { createScheduledController } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { Env } from "../../src/env";
import worker from "../../src/index";
import { signedInUser } from "../support/auth-session";
import { addActiveToken, seedPlan, startPayment, subscribe } from "../support/billing-setup";
import { createdPaymentBody } from "../support/gocardless/api-fixtures";
import { migrateToLatest } from "../support/migrate-to-latest";

// The Worker's Cron Trigger submits a pending attempt a user started to
// GoCardless; without a token it sends nothing. GoCardless is stubbed at the
// network edge (globalThis.fetch). The engine's own work: billing-engine.test.ts.

const BASE = "https://api-sandbox.gocardless.com";
let attemptId: string;
let mandateId: string;

beforeAll(async () => {
  await migrateToLatest(env.DB);
  await seedPlan("cron-plan", { amountMinor: 900, currency: "GBP" });
  const ivy = await signedInUser("ivy-cron@example.com");
  ({ mandateId } = await addActiveToken(ivy));
  attemptId = (await startPayment(ivy, await subscribe(ivy, "cron-plan"))).id;
});
afterEach(() => vi.restoreAllMocks());

async function runCron(bindings: Partial<Env>) {
  const logs: string[] = [];
  vi.spyOn(console, "log").mockImplementation((line: string) => void logs.push(line));
  const controller = createScheduledController({ scheduledTime: new Date(Date.now() + 60_000), cron: "*/15 * * * *" });
  await worker.scheduled(controller, { ...env, ...bindings } as Env);
  return logs.map((line) => JSON.parse(line));
}
async function attemptStatus() {
  return env.DB.prepare("select status, providerPaymentId from payment_attempts where id = ?").bind(attemptId).first();
}

describe("scheduled()", () => {
  it("without GOCARDLESS_ACCESS_TOKEN sends nothing, changes nothing, and logs why", async () => {
    const fetch = vi.spyOn(globalThis, "fetch");
    const logs = await runCron({ GOCARDLESS_ACCESS_TOKEN: undefined, GOCARDLESS_API_URL: BASE });
    expect(fetch).not.toHaveBeenCalled();
    expect(logs).toEqual([expect.objectContaining({ job: "billing-engine", due: 0, collection: "skipped", reason: expect.stringContaining("GOCARDLESS_ACCESS_TOKEN") })]);
    expect(await attemptStatus()).toEqual({ status: "pending", providerPaymentId: null });
  });

  it("with a token submits the pending attempt to GOCARDLESS_API_URL and logs one summary line", async () => {
    // The mandate check goes to the fake GoCardless underneath; the payment is answered here.
    const underlying = globalThis.fetch;
    const fetch = vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) =>
      String(input) === `${BASE}/payments`
        ? new Response(JSON.stringify(createdPaymentBody(attemptId, "PM0000CRON")), { status: 201, headers: { "content-type": "application/json" } })
        : underlying(input, init),
    );
    const logs = await runCron({ GOCARDLESS_ACCESS_TOKEN: "sandbox_token", GOCARDLESS_API_URL: BASE });
    expect(fetch.mock.calls.map(([input, init]) => `${init?.method} ${String(input)}`)).toEqual([`GET ${BASE}/mandates/${mandateId}`, `POST ${BASE}/payments`]);
    expect(logs).toEqual([
      expect.objectContaining({ job: "billing-engine", due: 1, done: 1, failed: 0, byKind: { submit: { due: 1, done: 1, skipped: 0, failed: 0 } } }),
    ]);
    expect(await attemptStatus()).toEqual({ status: "processing", providerPaymentId: "PM0000CRON" });
  });
});
