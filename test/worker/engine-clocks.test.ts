import { createScheduledController } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import type { Env } from "../../src/env";
import worker from "../../src/index";
import { signedInUser, type TestUser } from "../support/auth-session";
import { addActiveToken, seedPlan, startPayment, subscribe } from "../support/billing-setup";
import { createdPaymentBody, idempotentCreationConflictBody } from "../support/gocardless/api-fixtures";
import { installFakeGoCardless } from "../support/gocardless/fake-gocardless";
import { migrateToLatest } from "../support/migrate-to-latest";
import { paymentConfirmed, sendWebhook } from "../support/webhook-signer";

// Break-it issue 11 (5): a run whose scheduledTime is ahead of the wall clock
// (`/cdn-cgi/local/scheduled?time=<now + 1 day>`) must judge what happens in
// real time — a send's backoff, a claim's lease — on the wall clock, while
// what billing counts (period ends, the renewal window) still follows its
// scheduledTime. Through the Worker's scheduled() on a real local D1; Date is
// faked (the wall clock), scheduledTime set apart from it; GoCardless stubbed at
// the network edge.

const BASE = env.GOCARDLESS_API_URL.replace(/\/+$/, "");
const CRON = "*/15 * * * *";
const WALL = Date.parse("2027-03-01T09:00:00.000Z");
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const DAY = 24 * 60 * MINUTE;
const iso = (ms: number) => new Date(ms).toISOString();

/**
 * `POST /payments` and `GET /payments/:id` at GoCardless, on top of the shared fake's customers
 * and mandates: idempotent by key as GoCardless is (201, then 409 naming the payment it holds).
 * `down` drops the connection of the next POSTs; `holdNextPost()` keeps the next POST in flight
 * until `release()` (a slow GoCardless), its `arrived` resolving once the POST reached it.
 */
function goCardless() {
  installFakeGoCardless();
  const posts: { key: string; status: number; chargeDate?: string }[] = [];
  const payments = new Map<string, ReturnType<typeof createdPaymentBody>>();
  const byKey = new Map<string, string>();
  let down = 0;
  let hold: { arrived: () => void; released: Promise<void> } | undefined;
  const json = (body: unknown, status: number) => new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
  const next = globalThis.fetch;
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const request = new Request(input, init);
    const path = request.url.startsWith(`${BASE}/payments`) ? request.url.slice(BASE.length) : undefined;
    if (path === undefined) return next(input, init);
    if (request.method === "GET") {
      const payment = payments.get(path.split("/").pop()!);
      return payment ? json(payment, 200) : json({ error: { code: 404 } }, 404);
    }
    const key = request.headers.get("idempotency-key")!;
    const requested = (await request.json<any>()).payments;
    const slow = hold;
    hold = undefined;
    if (slow) {
      slow.arrived();
      await slow.released;
    }
    if (down > 0) {
      down--;
      posts.push({ key, status: 0 });
      throw new TypeError("Network connection lost.");
    }
    const existing = byKey.get(key);
    posts.push({ key, status: existing ? 409 : 201, chargeDate: requested.charge_date });
    if (existing) return json(idempotentCreationConflictBody(existing), 409);
    const payment = createdPaymentBody(requested.metadata.payment_attempt_id, `PM${String(payments.size + 1).padStart(4, "0")}CLOCKS`);
    payment.payments.links.mandate = requested.links.mandate;
    payments.set(payment.payments.id, payment);
    byKey.set(key, payment.payments.id);
    return json(payment, 201);
  });
  return {
    posts,
    /** The next `n` POSTs lose their connection (a network error: backoff). */
    dropNext: (n = 1) => void (down += n),
    holdNextPost() {
      let arrived!: () => void;
      let release!: () => void;
      const reached = new Promise<void>((resolve) => (arrived = resolve));
      hold = { arrived, released: new Promise<void>((resolve) => (release = resolve)) };
      held.push(() => release());
      return { arrived: reached, release };
    },
  };
}

/** Releases every POST a test held, so a failed test leaves no run waiting. */
const held: (() => void)[] = [];

/** Every line the Worker logged in this test (the engine logs one per run). */
let logged: string[] = [];

/** Runs the Cron Trigger once with `scheduledTime`, the wall clock (faked Date) wherever the test put it; its summary line. */
async function fire(scheduledTime: number) {
  await worker.scheduled(createScheduledController({ scheduledTime: new Date(scheduledTime), cron: CRON }), env as Env);
  const line = logged.map((text) => JSON.parse(text)).find((summary) => summary.at === iso(scheduledTime));
  expect(line).toBeDefined();
  return line;
}

const attemptRow = (id: string) => env.DB.prepare("select status, providerPaymentId, failureCode, nextRetryAt from payment_attempts where id = ?").bind(id).first();

let ann: TestUser;
let plans = 0;
async function subscribed() {
  const code = `clocks-${++plans}`;
  await seedPlan(code, { amountMinor: 1500, currency: "GBP" });
  return subscribe(ann, code);
}

beforeAll(async () => {
  await migrateToLatest(env.DB);
  vi.useFakeTimers({ toFake: ["Date"], now: WALL });
  ann = await signedInUser("ann-clocks@example.com");
  await addActiveToken(ann);
});
// The next file runs in this isolate: give it the real clock, fetch and console back.
afterAll(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});
afterEach(() => held.splice(0).forEach((release) => release()));
beforeEach(async () => {
  vi.restoreAllMocks();
  vi.setSystemTime(WALL);
  logged = [];
  vi.spyOn(console, "log").mockImplementation((line: string) => void logged.push(line));
  vi.spyOn(console, "error").mockImplementation(() => {});
  // Each test sees only its own subscriptions (and their attempts): the engine sweeps them all.
  await env.DB.prepare("delete from user_subscriptions").run();
});

describe("a run dated ahead of the wall clock (scheduledTime > Date.now())", () => {
  it("does not resend a payment inside its backoff: the wait after a failed send is real time, and the run once it passed sends it (same Idempotency-Key)", async () => {
    const gc = goCardless();
    const attempt = await startPayment(ann, await subscribed());
    gc.dropNext();
    expect((await fire(WALL)).byKind.submit).toEqual({ due: 1, done: 0, skipped: 0, failed: 1 });
    expect(await attemptRow(attempt.id)).toEqual({ status: "pending", providerPaymentId: null, failureCode: "network_error", nextRetryAt: iso(WALL + 15 * MINUTE) });

    // A minute later on the wall clock, someone runs the engine a day ahead.
    vi.setSystemTime(WALL + MINUTE);
    expect((await fire(WALL + DAY)).due).toBe(0);
    expect(gc.posts).toHaveLength(1);
    expect(await attemptRow(attempt.id)).toMatchObject({ status: "pending", nextRetryAt: iso(WALL + 15 * MINUTE) });

    vi.setSystemTime(WALL + 15 * MINUTE);
    expect((await fire(WALL + 15 * MINUTE)).byKind.submit).toEqual({ due: 1, done: 1, skipped: 0, failed: 0 });
    expect(gc.posts).toEqual([
      { key: attempt.id, status: 0 },
      { key: attempt.id, status: 201 },
    ]);
    expect(await attemptRow(attempt.id)).toMatchObject({ status: "processing", providerPaymentId: "PM0001CLOCKS" });
  });

  it("does not take over a send in flight: started a second after a run on time, while its slow POST waits, it leaves the attempt alone (one POST, no 409)", async () => {
    const gc = goCardless();
    const attempt = await startPayment(ann, await subscribed());
    const slow = gc.holdNextPost();
    const onTime = fire(WALL);
    await slow.arrived;

    vi.setSystemTime(WALL + SECOND);
    expect((await fire(WALL + DAY)).due).toBe(0);
    slow.release();
    expect((await onTime).byKind.submit).toEqual({ due: 1, done: 1, skipped: 0, failed: 0 });

    expect(gc.posts).toEqual([{ key: attempt.id, status: 201 }]);
    expect(await attemptRow(attempt.id)).toMatchObject({ status: "processing", providerPaymentId: "PM0001CLOCKS" });
  });

  it("holds what it sends for 10 minutes of real time from its claim, not from its date: a run on time meanwhile leaves it alone", async () => {
    const gc = goCardless();
    const attempt = await startPayment(ann, await subscribed());
    const slow = gc.holdNextPost();
    const ahead = fire(WALL + DAY);
    await slow.arrived;
    // The claim's lease, while the POST is in flight: had this run died, the next run 10 minutes on (not a day on) sends it.
    expect(await attemptRow(attempt.id)).toMatchObject({ status: "pending", nextRetryAt: iso(WALL + 10 * MINUTE) });

    vi.setSystemTime(WALL + SECOND);
    expect((await fire(WALL + SECOND)).due).toBe(0);
    slow.release();
    expect((await ahead).byKind.submit).toEqual({ due: 1, done: 1, skipped: 0, failed: 0 });
    expect(gc.posts).toEqual([{ key: attempt.id, status: 201 }]);
  });

  it("still drives billing time: the renewal due at its date is created then (createdAt = scheduledTime) and sent at once, for the period's last day", async () => {
    const gc = goCardless();
    const id = await subscribed();
    const first = await startPayment(ann, id);
    expect((await sendWebhook([paymentConfirmed(first.id)])).status).toBe(200);
    const { currentPeriodEnd } = (await env.DB.prepare("select currentPeriodEnd from user_subscriptions where id = ?").bind(id).first<{ currentPeriodEnd: string }>())!;
    const at = Date.parse(currentPeriodEnd) - 2 * DAY;

    expect((await fire(at)).byKind).toMatchObject({ renewal: { done: 1 }, submit: { due: 1, done: 1 } });
    const renewal = await env.DB.prepare("select status, createdAt, firstTriedAt from payment_attempts where subscriptionId = ? and periodStart = ?").bind(id, currentPeriodEnd).first();
    // Created at the run's date; its first try happened now, on the wall clock.
    expect(renewal).toEqual({ status: "processing", createdAt: iso(at), firstTriedAt: iso(WALL) });
    expect(gc.posts).toEqual([{ key: expect.any(String), status: 201, chargeDate: currentPeriodEnd.slice(0, 10) }]);
  });
});
