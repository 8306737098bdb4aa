import { createScheduledController } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import type { Env } from "../../src/env";
import worker from "../../src/index";
import { freshClientIp, signIn, signedInUser, type TestUser } from "../support/auth-session";
import { api, tokenBodyFor } from "../support/billing-api";
import { addActiveToken, seedPlan, startPayment, subscribe } from "../support/billing-setup";
import { planRow, subscriptionRow } from "../support/billing-seed";
import { recordingD1 } from "../support/recording-d1";
import { cancellationFailedBody, createdPaymentBody, idempotentCreationConflictBody, internalServerErrorBody, resourceNotFoundBody, validationFailedBody } from "../support/gocardless/api-fixtures";
import { installFakeGoCardless } from "../support/gocardless/fake-gocardless";
import { migrateToLatest } from "../support/migrate-to-latest";
import { happenedInOrder, mandateEvent, paymentConfirmed, paymentEvent, sendWebhook } from "../support/webhook-signer";

// The scheduled billing engine through the Worker's scheduled() on a real
// local D1, with a controllable clock (Date is faked; scheduledTime is the
// same instant) and GoCardless stubbed at the network edge
// (globalThis.fetch): a stand-in that keeps payments by Idempotency-Key as
// GoCardless does, answering with bodies from its API reference.

const BASE = "https://api-sandbox.gocardless.com";
const CRON = "*/15 * * * *";
const T0 = Date.parse("2027-01-10T09:00:00.000Z");
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** One month after T0: the end of the first period of a subscription paid at T0. */
const E = Date.parse("2027-02-10T09:00:00.000Z");

interface SentRequest {
  method: string;
  url: string;
  idempotencyKey: string | null;
  authorization: string | null;
  version: string | null;
  body: any;
}

/**
 * GoCardless at the network edge: POST /payments (idempotent by key), GET /payments/:id,
 * GET /payments?mandate=… (the list, one page) and POST /payments/:id/actions/cancel
 * (only a `pending_submission` payment can be cancelled, else 422 `cancellation_failed`).
 * Customers and mandates (whose mandate it is) are the shared fake's; they are counted in `lookups`.
 * `faults` apply to the next payment creations, `otherFaults` to the next list/get/cancel requests.
 */
function goCardless() {
  installFakeGoCardless();
  const sent: SentRequest[] = [];
  const lookups: string[] = [];
  const byKey = new Map<string, string>();
  const payments = new Map<string, ReturnType<typeof createdPaymentBody>>();
  const faults: ("lose-answer" | "down" | "refuse" | "hang" | "set-aside-meanwhile")[] = [];
  const otherFaults: ("down" | "server-error")[] = [];
  /** Run while the next POST /payments is in flight (e.g. an overlapping run). */
  const meanwhile: (() => Promise<unknown>)[] = [];
  /** Run while the next POST /payments/:id/actions/cancel is in flight (e.g. a resume). */
  const meanwhileCancel: (() => Promise<unknown>)[] = [];
  /** Run after each payment is created, before its answer (formed at creation) reaches the Worker. */
  const afterCreate: ((payment: ReturnType<typeof createdPaymentBody>["payments"]) => Promise<unknown>)[] = [];
  const original = globalThis.fetch;
  const json = (body: unknown, status: number) => new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const request = new Request(input, init);
    if (!request.url.startsWith(BASE)) return original(input, init);
    if (!request.url.startsWith(`${BASE}/payments`)) {
      lookups.push(`${request.method} ${request.url.slice(BASE.length)}`);
      return original(input, init);
    }
    const text = await request.text();
    const key = request.headers.get("idempotency-key");
    const url = new URL(request.url);
    sent.push({
      method: request.method,
      url: request.url.slice(BASE.length),
      idempotencyKey: key,
      authorization: request.headers.get("authorization"),
      version: request.headers.get("gocardless-version"),
      body: text ? JSON.parse(text) : undefined,
    });
    if (!(request.method === "POST" && url.pathname === "/payments")) {
      const fault = otherFaults.shift();
      if (fault === "down") throw new TypeError("Network connection lost.");
      if (fault === "server-error") return json(internalServerErrorBody, 500);
    }
    if (request.method === "GET" && url.pathname === "/payments") {
      const mandate = url.searchParams.get("mandate");
      const listed = [...payments.values()].map((p) => p.payments).filter((p) => mandate === null || p.links.mandate === mandate);
      return json({ payments: listed, meta: { cursors: { before: null, after: null }, limit: Number(url.searchParams.get("limit") ?? 50) } }, 200);
    }
    const cancel = /^\/payments\/([^/]+)\/actions\/cancel$/.exec(url.pathname);
    if (request.method === "POST" && cancel) {
      const payment = payments.get(cancel[1]!);
      if (!payment) return json(resourceNotFoundBody, 404);
      if (payment.payments.status !== "pending_submission") return json(cancellationFailedBody, 422);
      await meanwhileCancel.shift()?.();
      payment.payments.status = "cancelled";
      return json(payment, 200);
    }
    if (request.method === "GET") {
      const payment = payments.get(url.pathname.split("/").pop()!);
      return payment ? json(payment, 200) : json(resourceNotFoundBody, 404);
    }
    await meanwhile.shift()?.();
    const fault = faults.shift();
    // Accepts the connection and never answers: only the request's own signal ends it, as with a real fetch.
    if (fault === "hang") return new Promise<Response>((_, reject) => init?.signal?.addEventListener("abort", () => reject(init.signal!.reason)));
    if (fault === "down") throw new TypeError("Network connection lost.");
    if (fault === "refuse") return json(validationFailedBody, 422);
    if (key && byKey.has(key)) return json(idempotentCreationConflictBody(byKey.get(key)!), 409);
    const id = `PM${String(payments.size + 1).padStart(4, "0")}ENGINE`;
    const requested = JSON.parse(text).payments;
    const payment = createdPaymentBody(requested.metadata.payment_attempt_id, id);
    payment.payments.links.mandate = requested.links.mandate;
    payments.set(id, payment);
    if (key) byKey.set(key, id);
    const answer = json(payment, 201);
    for (const hook of afterCreate) await hook(payment.payments);
    // GoCardless created the payment, but the answer never reaches the Worker.
    if (fault === "lose-answer") throw new TypeError("Network connection lost.");
    // While the call is in flight a webhook sets the attempt aside (another payment collected its period).
    if (fault === "set-aside-meanwhile") {
      await env.DB.prepare("update payment_attempts set status = 'canceled', failureCode = 'superseded_by_collection' where id = ?").bind(requested.metadata.payment_attempt_id).run();
    }
    return answer;
  });
  return {
    sent,
    lookups,
    faults,
    otherFaults,
    meanwhile,
    meanwhileCancel,
    afterCreate,
    payments,
    paymentIdOf: (attemptId: string) => [...payments.values()].find((p) => p.payments.metadata.payment_attempt_id === attemptId)?.payments.id,
  };
}

/** Every line the Worker logged in this test (the engine logs one per run). */
let logged: string[] = [];

/** Moves the clock to `wall` and runs the Cron Trigger once with scheduledTime `at` (a late invocation when `wall` is later). */
async function fire(at: number, bindings: Partial<Env> = {}, wall = at) {
  vi.setSystemTime(wall);
  await worker.scheduled(createScheduledController({ scheduledTime: new Date(at), cron: CRON }), { ...env, GOCARDLESS_ACCESS_TOKEN: "sandbox_token", GOCARDLESS_API_URL: BASE, ...bindings } as Env);
}

/** {@link fire}, then the run's summary line. */
async function run(at: number, bindings: Partial<Env> = {}) {
  const before = logged.length;
  await fire(at, bindings);
  expect(logged.slice(before)).toHaveLength(1);
  return JSON.parse(logged.at(-1)!);
}

async function webhookAt(at: number, ...events: Parameters<typeof sendWebhook>[0]) {
  vi.setSystemTime(at);
  const response = await sendWebhook(events, { concurrent: true });
  expect(response.status).toBe(200);
}

/** The subscription's attempts marked as owed back. */
async function refundsDue(subscriptionId: string) {
  const { results } = await env.DB.prepare("select id from payment_attempts where subscriptionId = ? and refundDue = 1 order by id").bind(subscriptionId).all<{ id: string }>();
  return results.map((row) => row.id);
}

const seededAttempt = env.DB.prepare(
  "insert into payment_attempts (id, userId, subscriptionId, amountMinor, currency, status, attemptNumber, periodStart, idempotencyKey, requestFingerprint, provider, providerPaymentId, failureCode, failureMessage, nextRetryAt, createdAt, updatedAt) values (?, ?, ?, 1500, 'GBP', ?, ?, ?, ?, ?, 'gocardless', ?, ?, null, null, ?, ?)",
);

/** Every order of `items`. */
function permutations<T>(items: T[]): T[][] {
  if (items.length <= 1) return [items];
  return items.flatMap((item, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]));
}

async function subscription(id: string) {
  return env.DB.prepare("select status, currentPeriodStart, currentPeriodEnd, cancelAtPeriodEnd, endedAt from user_subscriptions where id = ?").bind(id).first<Record<string, unknown>>();
}
async function attempts(subscriptionId: string) {
  const { results } = await env.DB.prepare(
    "select id, status, attemptNumber, periodStart, providerPaymentId, failureCode, nextRetryAt from payment_attempts where subscriptionId = ? order by createdAt, attemptNumber",
  )
    .bind(subscriptionId)
    .all<Record<string, any>>();
  return results;
}

let eve: TestUser;
let eveMandate: string;
let nat: TestUser;
let plans = 0;

/** A new monthly plan (a user holds one live subscription per plan). */
async function plan(overrides: { trialDays?: number } = {}) {
  const code = `engine-${++plans}`;
  await seedPlan(code, { amountMinor: 1500, currency: "GBP", ...overrides });
  return code;
}

/** Subscribed and paid at T0 (the first payment confirmed): active until E. */
async function activeAtT0(user: TestUser) {
  vi.setSystemTime(T0);
  const id = await subscribe(user, await plan());
  const first = await startPayment(user, id);
  await webhookAt(T0, paymentConfirmed(first.id, `PMFIRST${plans}`));
  expect(await subscription(id)).toMatchObject({ status: "active", currentPeriodEnd: new Date(E).toISOString() });
  return id;
}

beforeAll(async () => {
  await migrateToLatest(env.DB);
  // Sessions are made at T0 too: every API call below happens at T0 (they last 7 days).
  vi.useFakeTimers({ toFake: ["Date"], now: T0 });
  eve = await signedInUser("eve-engine@example.com");
  ({ mandateId: eveMandate } = await addActiveToken(eve));
  nat = await signedInUser("nat-engine@example.com");
});
// The next file runs in this isolate: give it the real clock, fetch and console back.
afterAll(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});
beforeEach(async () => {
  vi.restoreAllMocks();
  logged = [];
  vi.spyOn(console, "log").mockImplementation((line: string) => void logged.push(line));
  // Each test sees only its own subscriptions: the engine sweeps them all.
  await env.DB.prepare("delete from user_subscriptions").run();
});

const iso = (ms: number) => new Date(ms).toISOString();

/** Eve's subscription, active at T0, whose renewal at E was sent and failed (insufficient funds). */
async function renewalFailed() {
  const id = await activeAtT0(eve);
  await run(E - 2 * DAY);
  const period = async () => (await attempts(id)).filter((row) => row.periodStart === iso(E));
  const [first] = await period();
  await webhookAt(E + HOUR, paymentEvent("failed", first!.id, first!.providerPaymentId, "insufficient_funds"));
  return { id, period, first: first! };
}

/**
 * After the period at E was charged back at E+8d (owed again, `past_due`): the next run
 * collects it with attempt 3, whose confirmation pays it with nothing owed back.
 */
async function collectedAgainAfterChargeback(id: string, period: () => ReturnType<typeof attempts>) {
  expect(await subscription(id)).toMatchObject({ status: "past_due", currentPeriodEnd: iso(E) });
  expect(kinds(await run(E + 8 * DAY + 15 * MINUTE))).toMatchObject({ retry: { done: 1 }, submit: { done: 1 } });
  const again = (await period()).find((row) => row.attemptNumber === 3)!;
  expect(again).toMatchObject({ status: "processing" });
  await webhookAt(E + 11 * DAY, paymentEvent("confirmed", again.id, again.providerPaymentId));
  expect(await subscription(id)).toMatchObject({ status: "active", currentPeriodStart: iso(E) });
  expect(await refundsDue(id)).toEqual([]);
}

/** The GoCardless client's timeout (AbortSignal.timeout), shortened to 50 ms for a test. */
function shortenTimeouts() {
  const timeout = AbortSignal.timeout.bind(AbortSignal);
  vi.spyOn(AbortSignal, "timeout").mockImplementation(() => timeout(50));
}
const kinds = (summary: any) => summary.byKind;

describe("the scheduled billing engine", () => {
  it("renews in the window, turns past_due at the period end, retries each failure on the schedule, and ends unpaid — sending exactly these requests", async () => {
    const gc = goCardless();
    const id = await activeAtT0(eve);

    expect(await run(E - 4 * DAY)).toMatchObject({ job: "billing-engine", at: iso(E - 4 * DAY), cron: CRON, chunk: 8, due: 0, done: 0, skipped: 0, failed: 0, byKind: {} });
    const window = await run(E - 2 * DAY);
    expect(kinds(window)).toEqual({ renewal: { due: 1, done: 1, skipped: 0, failed: 0 }, submit: { due: 1, done: 1, skipped: 0, failed: 0 } });
    const [renewal] = await attempts(id).then((rows) => rows.filter((row) => row.periodStart === iso(E)));
    expect(gc.sent).toEqual([
      {
        method: "POST",
        url: "/payments",
        idempotencyKey: renewal!.id,
        authorization: "Bearer sandbox_token",
        version: "2015-07-06",
        body: { payments: { amount: 1500, currency: "GBP", charge_date: "2027-02-10", metadata: { payment_attempt_id: renewal!.id }, links: { mandate: eveMandate } } },
      },
    ]);
    expect(renewal).toMatchObject({ status: "processing", attemptNumber: 1, providerPaymentId: gc.paymentIdOf(renewal!.id) });
    // Again at the same time, and later inside the window: nothing is due.
    expect(await run(E - 2 * DAY)).toMatchObject({ due: 0 });
    expect(await run(E - DAY)).toMatchObject({ due: 0 });

    expect(kinds(await run(E + HOUR))).toEqual({ period_end: { due: 1, done: 1, skipped: 0, failed: 0 } });
    expect(await subscription(id)).toMatchObject({ status: "past_due", currentPeriodEnd: iso(E) });

    // Each failure is retried once its nextRetryAt (1, 3, 7 days) passed, never before.
    let failedAt = E + 2 * HOUR;
    for (const [number, delayDays] of [[1, 1], [2, 3], [3, 7]] as const) {
      const open = (await attempts(id)).find((row) => row.attemptNumber === number && row.periodStart === iso(E))!;
      await webhookAt(failedAt, paymentEvent("failed", open.id, open.providerPaymentId, "insufficient_funds"));
      expect((await attempts(id)).find((row) => row.id === open.id)).toMatchObject({ status: "failed", nextRetryAt: iso(failedAt + delayDays * DAY) });
      expect(await run(failedAt + delayDays * DAY - MINUTE)).toMatchObject({ due: 0 });
      const sentBefore = gc.sent.length;
      expect(kinds(await run(failedAt + delayDays * DAY + MINUTE))).toEqual({ retry: { due: 1, done: 1, skipped: 0, failed: 0 }, submit: { due: 1, done: 1, skipped: 0, failed: 0 } });
      const retry = (await attempts(id)).find((row) => row.attemptNumber === number + 1)!;
      // Money is owed now: no charge_date (GoCardless collects as soon as the mandate allows).
      expect(gc.sent.slice(sentBefore)).toEqual([
        expect.objectContaining({ idempotencyKey: retry.id, body: { payments: { amount: 1500, currency: "GBP", metadata: { payment_attempt_id: retry.id }, links: { mandate: eveMandate } } } }),
      ]);
      expect(await subscription(id)).toMatchObject({ status: "past_due" });
      failedAt = failedAt + delayDays * DAY + 2 * HOUR;
    }
    const last = (await attempts(id)).find((row) => row.attemptNumber === 4)!;
    await webhookAt(failedAt, paymentEvent("failed", last.id, last.providerPaymentId, "insufficient_funds"));
    expect(await subscription(id)).toMatchObject({ status: "unpaid" });
    expect(await run(failedAt + 30 * DAY)).toMatchObject({ due: 0 });
    const period = (await attempts(id)).filter((row) => row.periodStart === iso(E));
    expect(period.map((row) => [row.attemptNumber, row.status])).toEqual([[1, "failed"], [2, "failed"], [3, "failed"], [4, "failed"]]);
    expect(gc.sent).toHaveLength(4);
  });

  it("two overlapping runs create one attempt and send it once", async () => {
    const gc = goCardless();
    const id = await activeAtT0(eve);
    await Promise.all([fire(E - 2 * DAY), fire(E - 2 * DAY)]);
    const [a, b] = logged.map((line) => JSON.parse(line));
    expect(a.byKind.renewal.done + b.byKind.renewal.done).toBe(1);
    expect((a.byKind.submit?.done ?? 0) + (b.byKind.submit?.done ?? 0)).toBe(1);
    expect((await attempts(id)).filter((row) => row.periodStart === iso(E))).toHaveLength(1);
    expect(gc.sent.filter((request) => request.method === "POST")).toHaveLength(1);
  });

  it("a run invoked 8 minutes after its scheduledTime holds what it sends for its own whole run: the next Cron run, while the POST is in flight, sends nothing again", async () => {
    const gc = goCardless();
    const id = await activeAtT0(eve);
    const scheduled = E - 2 * DAY;
    let overlapping: any;
    gc.meanwhile.push(async () => {
      overlapping = await run(scheduled + 11 * MINUTE);
    });
    await fire(scheduled, {}, scheduled + 8 * MINUTE);
    const late = JSON.parse(logged.at(-1)!);
    expect(kinds(late)).toMatchObject({ renewal: { done: 1 }, submit: { due: 1, done: 1 } });
    expect(overlapping.byKind.submit ?? { done: 0 }).toMatchObject({ done: 0 });
    const [attempt] = (await attempts(id)).filter((row) => row.periodStart === iso(E));
    expect(gc.sent.filter((request) => request.method === "POST").map((request) => request.idempotencyKey)).toEqual([attempt!.id]);
    expect(attempt).toMatchObject({ status: "processing", providerPaymentId: gc.paymentIdOf(attempt!.id) });
  });

  it("a run that dies after GoCardless created the payment: the next run after the backoff gets that payment (409), never a second one", async () => {
    const gc = goCardless();
    const id = await activeAtT0(eve);
    gc.faults.push("lose-answer");
    const died = await run(E - 2 * DAY);
    expect(kinds(died)).toEqual({ renewal: { due: 1, done: 1, skipped: 0, failed: 0 }, submit: { due: 1, done: 0, skipped: 0, failed: 1 } });
    const [attempt] = (await attempts(id)).filter((row) => row.periodStart === iso(E));
    expect(attempt).toMatchObject({ status: "pending", providerPaymentId: null, failureCode: "network_error", nextRetryAt: iso(E - 2 * DAY + 15 * MINUTE) });

    expect((await run(E - 2 * DAY + 10 * MINUTE)).due).toBe(0);
    expect(kinds(await run(E - 2 * DAY + 15 * MINUTE))).toEqual({ submit: { due: 1, done: 1, skipped: 0, failed: 0 } });
    expect(gc.sent.map((request) => [request.method, request.url, request.idempotencyKey])).toEqual([
      ["POST", "/payments", attempt!.id],
      ["POST", "/payments", attempt!.id],
      ["GET", `/payments/${gc.paymentIdOf(attempt!.id)}`, null],
    ]);
    expect(gc.sent[1]!.body).toEqual(gc.sent[0]!.body);
    expect((await attempts(id)).filter((row) => row.periodStart === iso(E))).toEqual([
      expect.objectContaining({ id: attempt!.id, status: "processing", providerPaymentId: gc.paymentIdOf(attempt!.id), failureCode: null, nextRetryAt: null }),
    ]);
  });

  it("GoCardless that never answers: the run ends at the client's timeout and records network_error, as a dropped connection", async () => {
    const gc = goCardless();
    const id = await activeAtT0(eve);
    gc.faults.push("hang");
    shortenTimeouts();
    const start = E - 2 * DAY;
    expect(kinds(await run(start))).toEqual({ renewal: { due: 1, done: 1, skipped: 0, failed: 0 }, submit: { due: 1, done: 0, skipped: 0, failed: 1 } });
    expect((await attempts(id)).at(-1)).toMatchObject({ status: "pending", failureCode: "network_error", nextRetryAt: iso(start + 15 * MINUTE) });
  });

  it("GoCardless down: the error is recorded and retried later with a growing wait", async () => {
    const gc = goCardless();
    const id = await activeAtT0(eve);
    gc.faults.push("down", "down");
    const start = E - 2 * DAY;
    await run(start);
    expect((await attempts(id)).at(-1)).toMatchObject({ status: "pending", failureCode: "network_error", nextRetryAt: iso(start + 15 * MINUTE) });
    await run(start + 15 * MINUTE);
    expect((await attempts(id)).at(-1)).toMatchObject({ status: "pending", nextRetryAt: iso(start + 30 * MINUTE) });
    await run(start + 30 * MINUTE);
    expect((await attempts(id)).at(-1)).toMatchObject({ status: "processing", failureCode: null });
    expect(gc.sent).toHaveLength(3);
  });

  it("after a week without runs, a few small runs bring every subscription to its state, charging the ended period once", async () => {
    const gc = goCardless();
    const paid = await activeAtT0(eve);
    vi.setSystemTime(T0);
    const neverPaid = await subscribe(nat, await plan());
    const trial = await subscribe(nat, await plan({ trialDays: 7 }));
    const gapEnd = E + 6 * DAY;
    const summaries = [];
    for (let i = 0; i < 4; i++) summaries.push(await run(gapEnd + i * 15 * MINUTE, { BILLING_ENGINE_CHUNK: "1" }));
    for (const summary of summaries) for (const counts of Object.values<any>(summary.byKind)) expect(counts.due).toBeLessThanOrEqual(1);
    expect(await subscription(paid)).toMatchObject({ status: "past_due", currentPeriodEnd: iso(E) });
    expect(await subscription(neverPaid)).toMatchObject({ status: "incomplete_expired" });
    expect(await subscription(trial)).toMatchObject({ status: "paused" });
    expect((await attempts(paid)).filter((row) => row.periodStart === iso(E))).toEqual([expect.objectContaining({ attemptNumber: 1, status: "processing" })]);
    expect(gc.sent.filter((request) => request.method === "POST")).toHaveLength(1);
    // More runs change nothing and send nothing.
    expect((await run(gapEnd + HOUR)).due).toBe(0);
    expect(gc.sent).toHaveLength(1);
  });

  it("a trial ends paused without a mandate; cancel-at-period-end ends canceled at the period's end and is never renewed", async () => {
    const gc = goCardless();
    vi.setSystemTime(T0);
    const trial = await subscribe(nat, await plan({ trialDays: 14 }));
    const ending = await activeAtT0(eve);
    vi.setSystemTime(T0);
    expect((await api(`/api/billing/subscriptions/${ending}/cancel`, { user: eve, json: { atPeriodEnd: true } })).status).toBe(200);

    expect(kinds(await run(T0 + 14 * DAY + MINUTE))).toEqual({ trial_end: { due: 1, done: 1, skipped: 0, failed: 0 } });
    expect(await subscription(trial)).toMatchObject({ status: "paused" });
    expect((await run(E - 2 * DAY)).due).toBe(0);
    expect(kinds(await run(E + MINUTE))).toEqual({ cancel_at_period_end: { due: 1, done: 1, skipped: 0, failed: 0 } });
    expect(await subscription(ending)).toMatchObject({ status: "canceled", cancelAtPeriodEnd: 0, endedAt: iso(E) });
    expect(gc.sent).toEqual([]);
  });

  it("a trial that ends while its first payment is in flight is past_due with grace, not paused: a failure is retried on the schedule, and the confirmation pays the period from the trial's end (F5)", async () => {
    const gc = goCardless();
    vi.setSystemTime(T0);
    const trialEnd = T0 + 14 * DAY;
    const id = await subscribe(eve, await plan({ trialDays: 14 }));
    expect(kinds(await run(trialEnd - 2 * DAY))).toMatchObject({ renewal: { done: 1 }, submit: { done: 1 } });
    expect(gc.sent.map((request) => request.body.payments.charge_date)).toEqual([iso(trialEnd).slice(0, 10)]);
    const [first] = await attempts(id);
    expect(first).toMatchObject({ status: "processing", periodStart: iso(trialEnd) });

    expect(kinds(await run(trialEnd + HOUR))).toEqual({ trial_end: { due: 1, done: 1, skipped: 0, failed: 0 } });
    expect(await subscription(id)).toMatchObject({ status: "past_due", currentPeriodEnd: iso(trialEnd) });
    vi.setSystemTime(trialEnd + HOUR);
    const user = await signIn(eve);
    // Direct debit takes days to confirm: the past-due grace follows the trial as it follows a paid period.
    expect((await api("/api/billing/entitlements", { user })).body.entitlements).toEqual([expect.objectContaining({ subscriptionId: id, status: "past_due", until: iso(trialEnd + 3 * DAY) })]);

    await webhookAt(trialEnd + 2 * DAY, paymentEvent("failed", first!.id, first!.providerPaymentId, "insufficient_funds"));
    expect(await subscription(id)).toMatchObject({ status: "past_due" });
    expect(kinds(await run(trialEnd + 3 * DAY + MINUTE))).toMatchObject({ retry: { done: 1 }, submit: { done: 1 } });
    const retry = (await attempts(id)).find((row) => row.attemptNumber === 2)!;
    expect(retry).toMatchObject({ status: "processing", periodStart: iso(trialEnd) });
    await webhookAt(trialEnd + 5 * DAY, paymentEvent("confirmed", retry.id, retry.providerPaymentId));
    expect(await subscription(id)).toMatchObject({ status: "active", currentPeriodStart: iso(trialEnd), currentPeriodEnd: "2027-02-24T09:00:00.000Z" });
  });

  it("past due with no mandate to retry on: unpaid once the past-due limit (11 days) passed", async () => {
    const gc = goCardless();
    const rex = await signedInUser("rex-engine@example.com");
    const token = await addActiveToken(rex);
    const id = await activeAtT0(rex);
    vi.setSystemTime(T0);
    expect((await api(`/api/billing/direct-debit-tokens/${token.id}`, { user: rex, method: "DELETE" })).status).toBe(200);
    await run(E + MINUTE);
    expect(await subscription(id)).toMatchObject({ status: "past_due" });
    expect((await run(E + 11 * DAY - MINUTE)).due).toBe(0);
    expect(kinds(await run(E + 11 * DAY + MINUTE))).toEqual({ retries_exhausted: { due: 1, done: 1, skipped: 0, failed: 0 } });
    expect(await subscription(id)).toMatchObject({ status: "unpaid" });
    expect(gc.sent).toEqual([]);
  });

  it("without GOCARDLESS_ACCESS_TOKEN applies the time events, creates and sends nothing, and says why", async () => {
    const gc = goCardless();
    const id = await activeAtT0(eve);
    const summary = await run(E + MINUTE, { GOCARDLESS_ACCESS_TOKEN: undefined });
    expect(summary).toMatchObject({ collection: "skipped", reason: expect.stringContaining("GOCARDLESS_ACCESS_TOKEN"), byKind: { period_end: { done: 1 } } });
    expect(await subscription(id)).toMatchObject({ status: "past_due" });
    expect((await attempts(id)).filter((row) => row.periodStart === iso(E))).toEqual([]);
    expect(gc.sent).toEqual([]);
  });

  it("with more due work than its chunk, a run stays inside the free plan's 50 D1 queries and 50 subrequests, and later runs finish it", async () => {
    const gc = goCardless();
    const plansRows = Array.from({ length: 24 }, () => planRow({ amountMinor: 700, currency: "GBP" }));
    await env.DB.batch(plansRows.map((row) => env.DB.prepare("insert into subscription_plans (id, code, name, description, amountMinor, currency, interval, intervalCount, trialDays, active, createdBy, createdAt, updatedAt) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)").bind(row.id, row.code, row.name, row.description, row.amountMinor, row.currency, row.interval, row.intervalCount, row.trialDays, row.active, row.createdBy, row.createdAt, row.updatedAt)));
    // 12 of eve's subscriptions whose period ended (renewal + period end each), 12 of nat's never paid past their deadline.
    const rows = plansRows.map((row, i) =>
      i < 12
        ? subscriptionRow(eve.id, row.id, { status: "active", provider: "gocardless", currentPeriodStart: iso(T0), currentPeriodEnd: iso(E), createdAt: iso(T0), updatedAt: iso(T0) })
        : subscriptionRow(nat.id, row.id, { status: "incomplete", provider: "gocardless", currentPeriodStart: iso(T0), currentPeriodEnd: iso(E), createdAt: iso(T0), updatedAt: iso(T0) }),
    );
    await env.DB.batch(rows.map((row) => env.DB.prepare("insert into user_subscriptions (id, userId, planId, status, currentPeriodStart, currentPeriodEnd, billingCycleAnchor, trialEndsAt, cancelAtPeriodEnd, canceledAt, endedAt, provider, providerSubscriptionId, createdAt, updatedAt) values (?, ?, ?, ?, ?, ?, ?, null, 0, null, null, ?, null, ?, ?)").bind(row.id, row.userId, row.planId, row.status, row.currentPeriodStart, row.currentPeriodEnd, row.currentPeriodStart, row.provider, row.createdAt, row.updatedAt)));

    const counts: { queries: number; subrequests: number }[] = [];
    for (let i = 0; i < 4; i++) {
      const recorded = recordingD1(env.DB);
      const before = gc.sent.length + gc.lookups.length;
      const summary = await run(E + DAY + i * 15 * MINUTE, { DB: recorded.database });
      for (const kind of Object.values<any>(summary.byKind)) expect(kind.due).toBeLessThanOrEqual(8);
      counts.push({ queries: recorded.calls.length, subrequests: gc.sent.length + gc.lookups.length - before });
    }
    console.error(`D1 queries / subrequests per run (chunk 8, 24 due subscriptions): ${JSON.stringify(counts)}`);
    for (const { queries, subrequests } of counts) {
      // 4 + 5·chunk and 4·chunk (docs/billing-engine.md).
      expect(queries).toBeLessThanOrEqual(44);
      expect(subrequests).toBeLessThanOrEqual(32);
    }
    const { results } = await env.DB.prepare("select status, count(*) as n from user_subscriptions group by status order by status").all();
    expect(results).toEqual([{ status: "incomplete_expired", n: 12 }, { status: "past_due", n: 12 }]);
    expect(await env.DB.prepare("select count(*) as n from payment_attempts where periodStart = ? and status = 'processing'").bind(iso(E)).first("n")).toBe(12);
  });

  it("subscriptions the sweep picks but the rules skip every run do not starve other due time events", async () => {
    goCardless();
    const plansRows = Array.from({ length: 10 }, () => planRow({ amountMinor: 700, currency: "GBP" }));
    await env.DB.batch(plansRows.map((row) => env.DB.prepare("insert into subscription_plans (id, code, name, description, amountMinor, currency, interval, intervalCount, trialDays, active, createdBy, createdAt, updatedAt) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)").bind(row.id, row.code, row.name, row.description, row.amountMinor, row.currency, row.interval, row.intervalCount, row.trialDays, row.active, row.createdBy, row.createdAt, row.updatedAt)));
    // 9 (more than the chunk of 8) past due since E whose period's first collection failed late
    // with no retry left, then a second collection of the period succeeded: the latest payment is
    // no failure, the past-due limit is far, so the rules apply nothing. And one victim whose period ended later.
    const stuck = plansRows.slice(0, 9).map((row) => subscriptionRow(nat.id, row.id, { status: "past_due", provider: "gocardless", currentPeriodStart: iso(T0), currentPeriodEnd: iso(E), createdAt: iso(T0), updatedAt: iso(T0) }));
    const victim = subscriptionRow(nat.id, plansRows[9]!.id, { status: "active", provider: "gocardless", currentPeriodStart: iso(T0), currentPeriodEnd: iso(E + 12 * HOUR), createdAt: iso(T0), updatedAt: iso(T0) });
    await env.DB.batch([...stuck, victim].map((row) => env.DB.prepare("insert into user_subscriptions (id, userId, planId, status, currentPeriodStart, currentPeriodEnd, billingCycleAnchor, trialEndsAt, cancelAtPeriodEnd, canceledAt, endedAt, provider, providerSubscriptionId, createdAt, updatedAt) values (?, ?, ?, ?, ?, ?, ?, null, 0, null, null, ?, null, ?, ?)").bind(row.id, row.userId, row.planId, row.status, row.currentPeriodStart, row.currentPeriodEnd, row.currentPeriodStart, row.provider, row.createdAt, row.updatedAt)));
    const insertAttempt = env.DB.prepare("insert into payment_attempts (id, userId, subscriptionId, amountMinor, currency, status, attemptNumber, periodStart, idempotencyKey, requestFingerprint, provider, providerPaymentId, failureCode, failureMessage, nextRetryAt, createdAt, updatedAt) values (?, ?, ?, 700, 'GBP', ?, ?, ?, ?, ?, 'gocardless', ?, ?, ?, null, ?, ?)");
    await env.DB.batch(stuck.flatMap((row) => [
      insertAttempt.bind(`${row.id}-1`, nat.id, row.id, "failed", 1, iso(E), `${row.id}-1`, "a".repeat(64), `PM${row.id}1`, "late_failure", "The payment failed late.", iso(E), iso(E)),
      insertAttempt.bind(`${row.id}-2`, nat.id, row.id, "succeeded", 2, iso(E), `${row.id}-2`, "b".repeat(64), `PM${row.id}2`, null, null, iso(E), iso(E)),
    ]));

    const first = await run(E + DAY);
    expect(first.byKind).toEqual({ period_end: { due: 1, done: 1, skipped: 0, failed: 0 } });
    expect(await subscription(victim.id)).toMatchObject({ status: "past_due", currentPeriodEnd: iso(E + 12 * HOUR) });
  });

  it("a submission GoCardless keeps refusing is given up after 3 days: the attempt fails, the retry schedule runs on, and the subscription ends unpaid", async () => {
    const gc = goCardless();
    const id = await activeAtT0(eve);
    gc.faults.push(...Array<"refuse">(200).fill("refuse"));
    for (let at = E - 2 * DAY; at <= E + 22 * DAY; at += 12 * HOUR) await run(at);
    const period = (await attempts(id)).filter((row) => row.periodStart === iso(E));
    expect(period.map((row) => [row.attemptNumber, row.status, row.failureCode])).toEqual([1, 2, 3, 4].map((n) => [n, "failed", "validation_failed"]));
    expect(await subscription(id)).toMatchObject({ status: "unpaid" });
    // Each attempt is sent on every run for its 3 days (a growing wait, at most a day): bounded.
    const posts = gc.sent.filter((request) => request.method === "POST");
    expect(posts.length).toBeLessThanOrEqual(4 * 7);
    expect((await run(E + 40 * DAY)).due).toBe(0);
    expect(gc.sent.filter((request) => request.method === "POST")).toHaveLength(posts.length);
  });

  it("a submission whose payment GoCardless did create (the answer was lost) and that was refused afterwards is found at the give-up day, not failed; GoCardless's confirmation then pays the period", async () => {
    const gc = goCardless();
    const id = await activeAtT0(eve);
    gc.faults.push("lose-answer", ...Array<"refuse">(20).fill("refuse"));
    for (let at = E - 2 * DAY; at <= E + 1 * DAY + MINUTE; at += 12 * HOUR) await run(at);
    const [found] = (await attempts(id)).filter((row) => row.periodStart === iso(E));
    expect(found).toMatchObject({ attemptNumber: 1, status: "processing", providerPaymentId: gc.paymentIdOf(found!.id) });
    await webhookAt(E + 2 * DAY - HOUR, paymentConfirmed(found!.id, gc.paymentIdOf(found!.id)));
    expect((await attempts(id)).find((row) => row.id === found!.id)).toMatchObject({ status: "succeeded", providerPaymentId: gc.paymentIdOf(found!.id) });
    expect(await subscription(id)).toMatchObject({ status: "active", currentPeriodStart: iso(E) });
    expect(gc.payments.size).toBe(1);
  });

  it.each([
    ["a run fired 4 days ahead of the wall clock (a time jump)", T0 + MINUTE],
    ["the first run after 4 days without runs", T0 + 4 * DAY],
  ])("a payment created at T0 and first tried by %s while GoCardless is down is not given up: the wait counts from that first try, and the next run sends it (issue 11)", async (_name, wall) => {
    const gc = goCardless();
    vi.setSystemTime(T0);
    const id = await subscribe(eve, await plan());
    const first = await startPayment(eve, id);
    const row = () => env.DB.prepare("select status, failureCode, nextRetryAt from payment_attempts where id = ?").bind(first.id).first();
    gc.faults.push("down");
    await fire(T0 + 4 * DAY, {}, wall);
    expect(await row()).toEqual({ status: "pending", failureCode: "network_error", nextRetryAt: iso(wall + 15 * MINUTE) });
    await fire(wall + 15 * MINUTE);
    expect(await row()).toMatchObject({ status: "processing", failureCode: null });
    // Never given up, so GoCardless was never asked for the mandate's payments.
    expect(gc.sent.map((request) => request.method)).toEqual(["POST", "POST"]);
    expect(await subscription(id)).toMatchObject({ status: "incomplete" });
  });

  it("a run whose scheduledTime is earlier than an attempt's createdAt (a time jump) still sees the renewal in flight: never unpaid while it is collected", async () => {
    const gc = goCardless();
    const id = await activeAtT0(eve);
    // Someone fires the Cron Trigger a month ahead: the renewal is created then (createdAt E + 30 days) and sent.
    await run(E + 30 * DAY);
    const renewals = async () => (await attempts(id)).filter((row) => row.periodStart === iso(E));
    const [first] = await renewals();
    expect(first).toMatchObject({ attemptNumber: 1, status: "processing", periodStart: iso(E) });
    await webhookAt(E + DAY, paymentEvent("failed", first!.id, first!.providerPaymentId, "insufficient_funds"));
    // Back on the real clock: the retry is created with an earlier createdAt than the failed attempt it retries.
    expect(kinds(await run(E + 2 * DAY + MINUTE))).toMatchObject({ retry: { done: 1 }, submit: { done: 1 } });
    expect((await renewals()).map((row) => [row.attemptNumber, row.status])).toEqual([[2, "processing"], [1, "failed"]]);
    // Past the 11-day past-due limit, while the retry is still being collected.
    vi.setSystemTime(E + 12 * DAY);
    expect((await run(E + 12 * DAY)).due).toBe(0);
    const read = await api(`/api/billing/subscriptions/${id}`, { user: await signIn(eve) });
    expect(read.status).toBe(200);
    expect(await subscription(id)).toMatchObject({ status: "past_due" });
    expect(gc.sent.filter((request) => request.method === "POST")).toHaveLength(2);
  });

  it("a resubmission that cancels our retry and then fails again: the retry schedule goes on with the next number", async () => {
    goCardless();
    const { id, period, first } = await renewalFailed();
    expect(kinds(await run(E + 2 * DAY))).toMatchObject({ retry: { done: 1 } });
    // GoCardless collects the first payment again itself: our retry yields, then the resubmission fails too.
    await webhookAt(E + 2 * DAY + HOUR, paymentEvent("resubmission_requested", first!.id, first!.providerPaymentId));
    await webhookAt(E + 3 * DAY, paymentEvent("failed", first!.id, first!.providerPaymentId, "insufficient_funds"));
    expect((await period()).map((row) => [row.attemptNumber, row.status, row.failureCode])).toEqual([[1, "failed", "insufficient_funds"], [2, "canceled", "superseded_by_resubmission"]]);

    // Not beside our set-aside retry while GoCardless may still collect it: once it is cancelled there.
    expect(kinds(await run(E + 5 * DAY))).toEqual({ cancel: { due: 1, done: 1, skipped: 0, failed: 0 } });
    expect(kinds(await run(E + 5 * DAY + 15 * MINUTE))).toMatchObject({ retry: { done: 1 } });
    expect((await period()).map((row) => [row.attemptNumber, row.status])).toContainEqual([3, "processing"]);
  });

  it("both collections of a period reversed (GoCardless's resubmission and our retry): the period is owed again, nothing is owed back, and the retry schedule goes on to attempts 3 and 4 — unpaid only when it is exhausted", async () => {
    goCardless();
    const id = await activeAtT0(eve);
    await run(E - 2 * DAY);
    const period = async () => (await attempts(id)).filter((row) => row.periodStart === iso(E));
    const numbered = async (n: number) => (await period()).find((row) => row.attemptNumber === n)!;
    const p1 = await numbered(1);
    await webhookAt(E + HOUR, paymentEvent("failed", p1.id, p1.providerPaymentId, "insufficient_funds"));
    expect(kinds(await run(E + 2 * DAY))).toMatchObject({ retry: { done: 1 }, submit: { done: 1 } });
    const p2 = await numbered(2);
    // GoCardless collects P1 again itself while our retry P2 is out: P2 is set aside, but GoCardless collects both.
    await webhookAt(E + 2 * DAY + HOUR, paymentEvent("resubmission_requested", p1.id, p1.providerPaymentId));
    await webhookAt(E + 5 * DAY, paymentEvent("confirmed", p2.id, p2.providerPaymentId));
    await webhookAt(E + 5 * DAY + HOUR, paymentEvent("confirmed", p1.id, p1.providerPaymentId));
    expect(await refundsDue(id)).toEqual([p1.id]);
    expect(await subscription(id)).toMatchObject({ status: "active", currentPeriodStart: iso(E) });
    // Then both are taken back: P1 fails late, P2 is charged back.
    await webhookAt(E + 6 * DAY, paymentEvent("failed", p1.id, p1.providerPaymentId, "refer_to_payer"));
    await webhookAt(E + 8 * DAY, paymentEvent("charged_back", p2.id, p2.providerPaymentId, "authorisation_disputed"));
    expect(await subscription(id)).toMatchObject({ status: "past_due", currentPeriodEnd: iso(E) });
    expect(await refundsDue(id)).toEqual([]);

    // The next run collects the period again (attempt 3); its failure waits 7 days, and day 12 is no end.
    expect(kinds(await run(E + 8 * DAY + 15 * MINUTE))).toMatchObject({ retry: { done: 1 }, submit: { done: 1 } });
    const p3 = await numbered(3);
    expect(p3).toMatchObject({ status: "processing" });
    await webhookAt(E + 9 * DAY, paymentEvent("failed", p3.id, p3.providerPaymentId, "insufficient_funds"));
    expect((await run(E + 12 * DAY)).due).toBe(0);
    expect(await subscription(id)).toMatchObject({ status: "past_due" });
    expect(kinds(await run(E + 16 * DAY + MINUTE))).toMatchObject({ retry: { done: 1 } });
    const p4 = await numbered(4);
    await webhookAt(E + 17 * DAY, paymentEvent("failed", p4.id, p4.providerPaymentId, "insufficient_funds"));
    expect(await subscription(id)).toMatchObject({ status: "unpaid" });
    expect((await run(E + 40 * DAY)).due).toBe(0);
    expect(await refundsDue(id)).toEqual([]);
  });

  it("GoCardless resubmits a failed renewal after our retry paid the period (set aside: period_already_paid), then our retry is charged back: the period is owed again and the engine collects it — never past_due with nothing collected", async () => {
    goCardless();
    const { id, period, first } = await renewalFailed();
    expect(kinds(await run(E + 2 * DAY))).toMatchObject({ retry: { done: 1 } });
    const retry = (await period()).find((row) => row.attemptNumber === 2)!;
    await webhookAt(E + 4 * DAY, paymentEvent("confirmed", retry.id, retry.providerPaymentId));
    await webhookAt(E + 4 * DAY + HOUR, paymentEvent("resubmission_requested", first.id, first.providerPaymentId));
    expect((await period()).map((row) => [row.attemptNumber, row.status, row.failureCode])).toEqual([[1, "canceled", "period_already_paid"], [2, "succeeded", null]]);
    expect(kinds(await run(E + 4 * DAY + 2 * HOUR))).toEqual({ cancel: { due: 1, done: 1, skipped: 0, failed: 0 } });
    await webhookAt(E + 8 * DAY, paymentEvent("charged_back", retry.id, retry.providerPaymentId, "authorisation_disputed"));
    await collectedAgainAfterChargeback(id, period);
  });

  /**
   * Eve's renewal failed; our retry 2 paid the period; GoCardless resubmitted attempt 1 (set
   * aside, period_already_paid) and refused its cancel (already submitted); `afterCancel` runs;
   * then retry 2 is charged back: the period is owed again while GoCardless may still collect
   * attempt 1.
   */
  async function owedWhileSetAsideMayCollect(gc: ReturnType<typeof goCardless>, afterCancel: (first: Record<string, any>) => Promise<void> = async () => {}) {
    const { id, period, first } = await renewalFailed();
    expect(kinds(await run(E + 2 * DAY))).toMatchObject({ retry: { done: 1 } });
    const retry = (await period()).find((row) => row.attemptNumber === 2)!;
    await webhookAt(E + 4 * DAY, paymentEvent("confirmed", retry.id, retry.providerPaymentId));
    await webhookAt(E + 4 * DAY + HOUR, paymentEvent("resubmission_requested", first.id, first.providerPaymentId));
    // GoCardless submitted the resubmission already: the cancel is refused (422, read back submitted).
    gc.payments.get(first.providerPaymentId)!.payments.status = "submitted";
    expect(kinds(await run(E + 4 * DAY + 2 * HOUR))).toEqual({ cancel: { due: 1, done: 1, skipped: 0, failed: 0 } });
    await afterCancel(first);
    await webhookAt(E + 8 * DAY, paymentEvent("charged_back", retry.id, retry.providerPaymentId, "authorisation_disputed"));
    expect(await subscription(id)).toMatchObject({ status: "past_due", currentPeriodEnd: iso(E) });
    return { id, period, first };
  }

  it("a set-aside attempt GoCardless may still collect (its cancel refused: already submitted) blocks collecting its period when that period is owed again: no second payment beside it, and its confirmation pays the period", async () => {
    const gc = goCardless();
    let first: Record<string, any> = {};
    const row = () => env.DB.prepare("select status, failureCode, providerCancel, refundDue from payment_attempts where id = ?").bind(first.id).first();
    const owed = await owedWhileSetAsideMayCollect(gc, async (setAside) => {
      first = setAside;
      expect(await row()).toEqual({ status: "canceled", failureCode: "period_already_paid", providerCancel: "cancellation_failed", refundDue: 0 });
    });
    const { id, period } = owed;
    first = owed.first;

    // GoCardless may still collect attempt 1: a payment beside it would debit the customer twice.
    const posted = () => gc.sent.filter((request) => request.method === "POST" && request.url === "/payments").length;
    const before = posted();
    const summary = await run(E + 8 * DAY + 15 * MINUTE);
    expect(kinds(summary).submit ?? { done: 0 }).toMatchObject({ done: 0 });
    expect(posted()).toBe(before);
    expect((await period()).map((row) => row.attemptNumber)).toEqual([1, 2]);
    // Nor through the API: the user's payment follows the engine's rule (break-it 2, A).
    vi.setSystemTime(E + 8 * DAY + 20 * MINUTE);
    const beside = await api(`/api/billing/subscriptions/${id}/payment-attempts`, { user: await signIn(eve), method: "POST", headers: { "Idempotency-Key": `beside-${id}` } });
    expect([beside.status, beside.body.error?.code]).toEqual([409, "PAYMENT_IN_PROGRESS"]);
    expect((await period()).map((row) => row.attemptNumber)).toEqual([1, 2]);

    await webhookAt(E + 9 * DAY, paymentEvent("confirmed", first.id, first.providerPaymentId));
    expect(await row()).toMatchObject({ status: "succeeded", refundDue: 0 });
    expect(await subscription(id)).toMatchObject({ status: "active", currentPeriodStart: iso(E) });
    expect(await refundsDue(id)).toEqual([]);
    expect((await run(E + 9 * DAY + HOUR)).due).toBe(0);
    expect(posted()).toBe(before);
  });

  it("a set-aside attempt GoCardless may still collect counts as a payment in flight past the past-due limit: no unpaid while its outcome is unknown, and its confirmation pays the period", async () => {
    const gc = goCardless();
    const { id, first } = await owedWhileSetAsideMayCollect(gc);

    // Past the past-due limit with attempt 1's outcome still unknown: GoCardless may collect it.
    await run(E + 13 * DAY);
    expect(await subscription(id)).toMatchObject({ status: "past_due", currentPeriodEnd: iso(E) });

    await webhookAt(E + 14 * DAY, paymentEvent("confirmed", first.id, first.providerPaymentId));
    expect(await subscription(id)).toMatchObject({ status: "active", currentPeriodStart: iso(E) });
    expect(await refundsDue(id)).toEqual([]);
  });

  it("a set-aside attempt GoCardless does not hold (404 on its cancel) does not block its period owed again: the engine collects it", async () => {
    const gc = goCardless();
    const { id, period, first } = await renewalFailed();
    expect(kinds(await run(E + 2 * DAY))).toMatchObject({ retry: { done: 1 } });
    const retry = (await period()).find((row) => row.attemptNumber === 2)!;
    await webhookAt(E + 4 * DAY, paymentEvent("confirmed", retry.id, retry.providerPaymentId));
    await webhookAt(E + 4 * DAY + HOUR, paymentEvent("resubmission_requested", first.id, first.providerPaymentId));
    // Not in this GoCardless account (kept under another id, so the fake's next payment id stays new).
    gc.payments.set("PMELSEWHERE", gc.payments.get(first.providerPaymentId)!);
    gc.payments.delete(first.providerPaymentId);
    vi.spyOn(console, "error").mockImplementation(() => {});
    expect(kinds(await run(E + 4 * DAY + 2 * HOUR))).toEqual({ cancel: { due: 1, done: 0, skipped: 0, failed: 1 } });
    expect(await env.DB.prepare("select providerCancel from payment_attempts where id = ?").bind(first.id).first("providerCancel")).toBe("cancellation_failed");
    await webhookAt(E + 8 * DAY, paymentEvent("charged_back", retry.id, retry.providerPaymentId, "authorisation_disputed"));

    expect(kinds(await run(E + 8 * DAY + 15 * MINUTE))).toMatchObject({ retry: { done: 1 }, submit: { done: 1 } });
    expect((await period()).find((row) => row.attemptNumber === 3)).toMatchObject({ status: "processing" });
    expect(await subscription(id)).toMatchObject({ status: "past_due" });
  });

  it("our retry set aside because GoCardless collected the failed renewal after all (superseded_by_collection), then that collection is charged back: the period is owed again and the engine collects it", async () => {
    goCardless();
    const { id, period, first } = await renewalFailed();
    expect(kinds(await run(E + 2 * DAY))).toMatchObject({ retry: { done: 1 } });
    // GoCardless collected the first payment again (its resubmission event not arrived): our retry yields.
    await webhookAt(E + 4 * DAY, paymentEvent("confirmed", first.id, first.providerPaymentId));
    expect((await period()).map((row) => [row.attemptNumber, row.status, row.failureCode])).toEqual([[1, "succeeded", null], [2, "canceled", "superseded_by_collection"]]);
    expect(kinds(await run(E + 4 * DAY + HOUR))).toEqual({ cancel: { due: 1, done: 1, skipped: 0, failed: 0 } });
    await webhookAt(E + 8 * DAY, paymentEvent("charged_back", first.id, first.providerPaymentId, "authorisation_disputed"));
    await collectedAgainAfterChargeback(id, period);
  });

  it("a chargeback weeks after its period started (past the past-due limit): a read before the next run keeps it past_due, and the run collects the period again", async () => {
    goCardless();
    const id = await activeAtT0(eve);
    await run(E - 2 * DAY);
    const [renewal] = (await attempts(id)).filter((row) => row.periodStart === iso(E));
    await webhookAt(E, paymentEvent("confirmed", renewal!.id, renewal!.providerPaymentId));
    expect(await subscription(id)).toMatchObject({ status: "active", currentPeriodStart: iso(E) });
    await webhookAt(E + 20 * DAY, paymentEvent("charged_back", renewal!.id, renewal!.providerPaymentId, "authorisation_disputed"));
    vi.setSystemTime(E + 20 * DAY + MINUTE);
    expect((await api(`/api/billing/subscriptions/${id}`, { user: await signIn(eve) })).body.subscription).toMatchObject({ status: "past_due" });
    expect(kinds(await run(E + 20 * DAY + 15 * MINUTE))).toMatchObject({ retry: { done: 1 }, submit: { done: 1 } });
    expect(await subscription(id)).toMatchObject({ status: "past_due", currentPeriodEnd: iso(E) });
    expect((await attempts(id)).filter((row) => row.periodStart === iso(E)).map((row) => [row.attemptNumber, row.status])).toEqual([[1, "failed"], [2, "processing"]]);
  });

  it("the FIRST payment charged back while its period runs: past_due owing that period with no grace access (no period before the first was paid), the engine collects it again, and its confirmation pays exactly it (issue 11)", async () => {
    goCardless();
    const id = await activeAtT0(eve);
    const [first] = await attempts(id);
    await webhookAt(T0 + DAY, paymentEvent("charged_back", first!.id, first!.providerPaymentId, "authorisation_disputed"));
    // Nothing stands paid: the period owed is the first one (the stored period ends where it starts, a placeholder
    // before the anchor, as the schema wants start < end), and no grace follows it.
    const owing = { status: "past_due", currentPeriodEnd: iso(T0) };
    expect(await subscription(id)).toMatchObject(owing);
    vi.setSystemTime(T0 + DAY + MINUTE);
    const user = await signIn(eve);
    expect((await api(`/api/billing/subscriptions/${id}`, { user })).body.subscription).toMatchObject(owing);
    expect(JSON.stringify((await api("/api/billing/entitlements", { user })).body)).not.toContain(id);

    expect(kinds(await run(T0 + DAY + 15 * MINUTE))).toMatchObject({ retry: { done: 1 }, submit: { done: 1 } });
    const retry = (await attempts(id)).find((row) => row.attemptNumber === 2)!;
    expect(retry).toMatchObject({ status: "processing", periodStart: iso(T0) });
    await webhookAt(T0 + 4 * DAY, paymentEvent("confirmed", retry.id, retry.providerPaymentId));
    expect(await subscription(id)).toMatchObject({ status: "active", currentPeriodStart: iso(T0), currentPeriodEnd: iso(E) });
    expect(await refundsDue(id)).toEqual([]);
  });

  /** Two renewals (periods E..E2 and E2..E3) collected, then the OLDER one (R1, E..E2) charged back at E2 + 1 day. */
  const E2 = Date.parse("2027-03-10T09:00:00.000Z");
  const E3 = Date.parse("2027-04-10T09:00:00.000Z");

  /** Eve's subscription, active at T0, its renewals at E, E2 and E3 each sent 2 days ahead and confirmed `confirmedBefore` ms before its period starts; the renewals by period start. */
  async function threeRenewalsPaid(confirmedBefore = DAY) {
    const id = await activeAtT0(eve);
    const paid: Record<string, any> = {};
    for (const end of [E, E2, E3]) {
      await run(end - 2 * DAY);
      const renewal = (await attempts(id)).find((row) => row.periodStart === iso(end))!;
      await webhookAt(end - confirmedBefore, paymentEvent("confirmed", renewal.id, renewal.providerPaymentId));
      paid[iso(end)] = renewal;
    }
    return { id, paid };
  }

  async function olderPeriodChargedBack() {
    const id = await activeAtT0(eve);
    await run(E - 2 * DAY);
    const [r1] = (await attempts(id)).filter((row) => row.periodStart === iso(E));
    await webhookAt(E, paymentEvent("confirmed", r1!.id, r1!.providerPaymentId));
    await run(E2 - 2 * DAY);
    const [r3] = (await attempts(id)).filter((row) => row.periodStart === iso(E2));
    await webhookAt(E2, paymentEvent("confirmed", r3!.id, r3!.providerPaymentId));
    expect(await subscription(id)).toMatchObject({ status: "active", currentPeriodStart: iso(E2), currentPeriodEnd: iso(E3) });
    await webhookAt(E2 + DAY, paymentEvent("charged_back", r1!.id, r1!.providerPaymentId, "authorisation_disputed"));
    return id;
  }

  it("a chargeback of an OLDER period after the next one was paid: the later period stays paid, the older one is owed and collected again, nothing is charged twice (issue 11 break-it)", async () => {
    const gc = goCardless();
    const id = await olderPeriodChargedBack();
    // R1 (the period E..E2) is charged back while E2..E3 is paid: the customer owes E..E2 again,
    // and the current period does not move back.
    expect(await subscription(id)).toMatchObject({ status: "past_due", currentPeriodStart: iso(E2), currentPeriodEnd: iso(E3) });
    vi.setSystemTime(E2 + DAY + MINUTE);
    const read = (await api(`/api/billing/subscriptions/${id}`, { user: await signIn(eve) })).body.subscription;
    expect(read).toMatchObject({ status: "past_due", currentPeriodEnd: iso(E3) });

    // The engine collects the reversed period again (its next attempt number), never E2 again.
    expect(kinds(await run(E2 + DAY + 15 * MINUTE))).toMatchObject({ retry: { done: 1 }, submit: { done: 1 } });
    const retry = (await attempts(id)).find((row) => row.periodStart === iso(E) && row.attemptNumber === 2);
    expect(retry).toMatchObject({ status: "processing" });
    expect((await attempts(id)).filter((row) => row.periodStart === iso(E2)).map((row) => [row.attemptNumber, row.status])).toEqual([[1, "succeeded"]]);
    expect(gc.sent.filter((request) => request.method === "POST")).toHaveLength(3);
    // Later runs before the retry's outcome: nothing more is due, and it is not ended.
    expect(await run(E2 + 2 * DAY)).toMatchObject({ due: 0 });
    expect(await run(E2 + 13 * DAY)).toMatchObject({ due: 0 });
    expect(await subscription(id)).toMatchObject({ status: "past_due", currentPeriodEnd: iso(E3) });

    await webhookAt(E2 + 14 * DAY, paymentEvent("confirmed", retry!.id, retry!.providerPaymentId));
    expect(await subscription(id)).toMatchObject({ status: "active", currentPeriodStart: iso(E2), currentPeriodEnd: iso(E3) });
    expect((await attempts(id)).map((row) => [row.periodStart, row.attemptNumber, row.status])).toEqual([
      [expect.any(String), 1, "succeeded"],
      [iso(E), 1, "failed"],
      [iso(E2), 1, "succeeded"],
      [iso(E), 2, "succeeded"],
    ]);
    expect(await refundsDue(id)).toEqual([]);
    // The next renewal is E3's, attempt 1, in its window.
    expect(kinds(await run(E3 - 2 * DAY))).toMatchObject({ renewal: { done: 1 } });
    expect((await attempts(id)).filter((row) => row.periodStart === iso(E3)).map((row) => row.attemptNumber)).toEqual([1]);
  });

  it("an OLDER period charged back: a payment started through the API pays it; its failures keep the subscription past_due (with access) until its schedule is exhausted, then unpaid", async () => {
    const gc = goCardless();
    const id = await olderPeriodChargedBack();
    vi.setSystemTime(E2 + DAY + MINUTE);
    const started = await startPayment(await signIn(eve), id);
    expect(started.attemptNumber).toBe(2);
    await run(E2 + DAY + 15 * MINUTE);
    const entitled = async () => (await api("/api/billing/entitlements", { user: await signIn(eve) })).body;
    // Attempts 2, 3 and 4 of the period E..E2 fail; after 2 and 3 the engine retries it on the schedule (3, then 7 days).
    let failedAt = E2 + DAY + HOUR;
    for (const [number, delayDays] of [[2, 3], [3, 7], [4, 0]] as const) {
      const open = (await attempts(id)).find((row) => row.periodStart === iso(E) && row.attemptNumber === number)!;
      expect(open).toMatchObject({ status: "processing" });
      await webhookAt(failedAt, paymentEvent("failed", open.id, open.providerPaymentId, "insufficient_funds"));
      if (number === 4) break;
      expect(await subscription(id)).toMatchObject({ status: "past_due", currentPeriodEnd: iso(E3) });
      vi.setSystemTime(failedAt + MINUTE);
      expect(JSON.stringify(await entitled())).toContain(id);
      expect(await run(failedAt + delayDays * DAY - MINUTE)).toMatchObject({ due: 0 });
      failedAt += delayDays * DAY;
      expect(kinds(await run(failedAt))).toMatchObject({ retry: { done: 1 }, submit: { done: 1 } });
      failedAt += HOUR;
    }
    // The schedule of the period owed is exhausted: unpaid, only now.
    expect(await subscription(id)).toMatchObject({ status: "unpaid", currentPeriodEnd: iso(E3) });
    expect(JSON.stringify(await entitled())).not.toContain(id);
    expect((await attempts(id)).filter((row) => row.periodStart !== iso(E)).map((row) => [row.periodStart === iso(E2), row.status])).toEqual([
      [false, "succeeded"],
      [true, "succeeded"],
    ]);
    expect(gc.sent.filter((request) => request.method === "POST").map((request) => request.body.payments.charge_date)).toHaveLength(2 + 3);
  });

  it("an OLDER period charged back, then the chargeback cancelled: active again on the same period, and nothing is collected", async () => {
    goCardless();
    const id = await olderPeriodChargedBack();
    const [r1] = (await attempts(id)).filter((row) => row.periodStart === iso(E));
    await webhookAt(E2 + DAY + MINUTE, paymentEvent("chargeback_cancelled", r1!.id, r1!.providerPaymentId));
    expect(await subscription(id)).toMatchObject({ status: "active", currentPeriodStart: iso(E2), currentPeriodEnd: iso(E3) });
    expect(await run(E2 + DAY + 15 * MINUTE)).toMatchObject({ due: 0 });
    expect(await attempts(id)).toHaveLength(3);
  });

  it.each([
    ["charged back 10 days into the period it paid, then the subscription cancelled now: that period was served, so the money is kept", E + 10 * DAY, false],
    ["charged back before the period it paid started, then the subscription cancelled now: that period never came, so the money is owed back", E - DAY + HOUR, true],
  ])("a renewal %s, then the chargeback cancelled (dispute won) (issue 11)", async (_name, chargedBackAt, owedBack) => {
    goCardless();
    const id = await activeAtT0(eve);
    await run(E - 2 * DAY);
    const [renewal] = (await attempts(id)).filter((row) => row.periodStart === iso(E));
    await webhookAt(E - DAY, paymentConfirmed(renewal!.id, renewal!.providerPaymentId));
    await webhookAt(chargedBackAt, paymentEvent("charged_back", renewal!.id, renewal!.providerPaymentId));
    vi.setSystemTime(chargedBackAt + HOUR);
    expect((await api(`/api/billing/subscriptions/${id}/cancel`, { user: await signIn({ ...eve, ip: freshClientIp() }), json: { atPeriodEnd: false } })).status).toBe(200);
    await webhookAt(E + 30 * DAY, paymentEvent("chargeback_cancelled", renewal!.id, renewal!.providerPaymentId));
    expect((await attempts(id)).find((row) => row.id === renewal!.id)).toMatchObject({ status: "succeeded", periodStart: iso(E) });
    expect(await refundsDue(id)).toEqual(owedBack ? [renewal!.id] : []);
    expect(await subscription(id)).toMatchObject({ status: "canceled", endedAt: iso(chargedBackAt + HOUR) });
  });

  it("an OLDER period charged back and no run until the current period ended: the older period is collected first (still past_due), then the next renewal", async () => {
    const gc = goCardless();
    const id = await olderPeriodChargedBack();
    expect(kinds(await run(E3 + HOUR))).toMatchObject({ retry: { done: 1 } });
    const retry = (await attempts(id)).find((row) => row.periodStart === iso(E) && row.attemptNumber === 2)!;
    expect(retry).toMatchObject({ status: "processing" });
    await webhookAt(E3 + 2 * HOUR, paymentEvent("confirmed", retry.id, retry.providerPaymentId));
    // The older period is paid; the current one ended, so the next renewal is owed (past due as read).
    vi.setSystemTime(E3 + 2 * HOUR + MINUTE);
    expect((await api(`/api/billing/subscriptions/${id}`, { user: await signIn(eve) })).body.subscription).toMatchObject({ status: "past_due", currentPeriodEnd: iso(E3) });
    expect(kinds(await run(E3 + 3 * HOUR))).toMatchObject({ renewal: { done: 1 } });
    const renewal = (await attempts(id)).find((row) => row.periodStart === iso(E3))!;
    expect(renewal).toMatchObject({ attemptNumber: 1, status: "processing" });
    await webhookAt(E3 + 4 * HOUR, paymentEvent("confirmed", renewal.id, renewal.providerPaymentId));
    expect(await subscription(id)).toMatchObject({ status: "active", currentPeriodStart: iso(E3) });
    expect(gc.sent.filter((request) => request.method === "POST")).toHaveLength(4);
    expect(await refundsDue(id)).toEqual([]);
  });

  it("both renewals charged back, the OLDER first: each period is collected again once, the older first, and each confirmation is recorded", async () => {
    const gc = goCardless();
    const id = await olderPeriodChargedBack();
    const [r3] = (await attempts(id)).filter((row) => row.periodStart === iso(E2));
    await webhookAt(E2 + DAY + MINUTE, paymentEvent("charged_back", r3!.id, r3!.providerPaymentId, "authorisation_disputed"));
    expect(await subscription(id)).toMatchObject({ status: "past_due", currentPeriodStart: iso(E), currentPeriodEnd: iso(E2) });
    let at = E2 + DAY + 15 * MINUTE;
    for (const period of [E, E2]) {
      expect(kinds(await run(at))).toMatchObject({ retry: { done: 1 } });
      const retry = (await attempts(id)).find((row) => row.status === "processing")!;
      expect(retry).toMatchObject({ periodStart: iso(period), attemptNumber: 2 });
      await webhookAt(at + HOUR, paymentEvent("confirmed", retry.id, retry.providerPaymentId));
      at += 2 * HOUR;
    }
    expect(await subscription(id)).toMatchObject({ status: "active", currentPeriodStart: iso(E2), currentPeriodEnd: iso(E3) });
    expect(await run(at)).toMatchObject({ due: 0 });
    expect(gc.sent.filter((request) => request.method === "POST")).toHaveLength(4);
    expect(await refundsDue(id)).toEqual([]);
  });

  it("two OLDER periods charged back: past_due until both are paid again, and unpaid once the second one's own schedule is exhausted (issue 11 break-it)", async () => {
    goCardless();
    const id = await olderPeriodChargedBack();
    const [first] = await attempts(id);
    await webhookAt(E2 + DAY + MINUTE, paymentEvent("charged_back", first!.id, first!.providerPaymentId, "authorisation_disputed"));
    expect(await subscription(id)).toMatchObject({ status: "past_due", currentPeriodStart: iso(E2) });
    // The oldest period is collected again first; paid, it leaves E..E2 owed: still past_due.
    let at = E2 + DAY + 15 * MINUTE;
    expect(kinds(await run(at))).toMatchObject({ retry: { done: 1 } });
    const again = (await attempts(id)).find((row) => row.status === "processing")!;
    expect(again).toMatchObject({ periodStart: first!.periodStart, attemptNumber: 2 });
    await webhookAt(at + HOUR, paymentEvent("confirmed", again.id, again.providerPaymentId));
    expect(await subscription(id)).toMatchObject({ status: "past_due", currentPeriodStart: iso(E2), currentPeriodEnd: iso(E3) });
    // E..E2's attempts 2, 3 and 4 fail (retried after 3, then 7 days): unpaid at the last, while E2..E3 still runs.
    at += 2 * HOUR;
    for (const [number, delayDays] of [[2, 3], [3, 7], [4, 0]] as const) {
      expect(kinds(await run(at))).toMatchObject({ retry: { done: 1 } });
      const open = (await attempts(id)).find((row) => row.status === "processing")!;
      expect(open).toMatchObject({ periodStart: iso(E), attemptNumber: number });
      await webhookAt(at + HOUR, paymentEvent("failed", open.id, open.providerPaymentId, "insufficient_funds"));
      expect((await subscription(id))!.status).toBe(delayDays ? "past_due" : "unpaid");
      at += HOUR + delayDays * DAY;
    }
  });

  it("a chargeback of an OLDER period's payment that arrives before that payment's confirmed (its paid_out counted): the older period is owed and collected once; the overtaken confirmed changes nothing", async () => {
    const gc = goCardless();
    const id = await activeAtT0(eve);
    await run(E - 2 * DAY);
    const [r1] = (await attempts(id)).filter((row) => row.periodStart === iso(E));
    // GoCardless's times: confirmed at E, paid out two days later, charged back after the next period was paid.
    const stamp = (event: ReturnType<typeof paymentEvent>, at: number) => ({ ...event, created_at: iso(at) });
    const confirmed = stamp(paymentEvent("confirmed", r1!.id, r1!.providerPaymentId), E);
    await webhookAt(E + 2 * DAY, stamp(paymentEvent("paid_out", r1!.id, r1!.providerPaymentId), E + 2 * DAY));
    await run(E2 - 2 * DAY);
    const [r2] = (await attempts(id)).filter((row) => row.periodStart === iso(E2));
    await webhookAt(E2, paymentEvent("confirmed", r2!.id, r2!.providerPaymentId));
    await webhookAt(E2 + DAY, stamp(paymentEvent("charged_back", r1!.id, r1!.providerPaymentId, "authorisation_disputed"), E2 + DAY));
    const owed = { status: "past_due", currentPeriodStart: iso(E2), currentPeriodEnd: iso(E3) };
    expect(await subscription(id)).toMatchObject(owed);
    await webhookAt(E2 + DAY + HOUR, confirmed);
    expect(await subscription(id)).toMatchObject(owed);
    expect((await attempts(id)).filter((row) => row.periodStart === iso(E)).map((row) => [row.attemptNumber, row.status])).toEqual([[1, "failed"]]);

    expect(kinds(await run(E2 + DAY + 2 * HOUR))).toMatchObject({ retry: { done: 1 }, submit: { done: 1 } });
    const retry = (await attempts(id)).find((row) => row.status === "processing")!;
    expect(retry).toMatchObject({ periodStart: iso(E), attemptNumber: 2 });
    await webhookAt(E2 + 2 * DAY, paymentEvent("confirmed", retry.id, retry.providerPaymentId));
    expect(await subscription(id)).toMatchObject({ status: "active", currentPeriodStart: iso(E2), currentPeriodEnd: iso(E3) });
    expect(await run(E2 + 3 * DAY)).toMatchObject({ due: 0 });
    expect(gc.sent.filter((request) => request.method === "POST")).toHaveLength(3);
    expect(await refundsDue(id)).toEqual([]);
  });

  it("three renewals paid, the last one early (in its renewal window), then the middle, the current and the oldest charged back before the current period starts: past_due after each, never active while a period is owed (issue 11)", async () => {
    goCardless();
    const E4 = Date.parse("2027-05-10T09:00:00.000Z");
    const { id, paid } = await threeRenewalsPaid();
    expect(await subscription(id)).toMatchObject({ status: "active", currentPeriodStart: iso(E3), currentPeriodEnd: iso(E4) });
    let at = E3 - DAY + HOUR;
    for (const period of [E2, E3, E]) {
      const renewal = paid[iso(period)];
      await webhookAt(at, paymentEvent("charged_back", renewal.id, renewal.providerPaymentId, "authorisation_disputed"));
      expect({ period: iso(period), status: (await subscription(id))!.status }).toEqual({ period: iso(period), status: "past_due" });
      vi.setSystemTime(at + MINUTE);
      expect((await api(`/api/billing/subscriptions/${id}`, { user: await signIn(eve) })).body.subscription).toMatchObject({ status: "past_due" });
      at += HOUR;
    }
    // The end state: the stored period is the one before the current one (owed itself); the oldest owed period is collected first.
    expect(await subscription(id)).toMatchObject({ status: "past_due", currentPeriodStart: iso(E2), currentPeriodEnd: iso(E3) });
    expect(kinds(await run(at))).toMatchObject({ retry: { done: 1 } });
    expect((await attempts(id)).filter((row) => row.status === "processing").map((row) => [row.periodStart, row.attemptNumber])).toEqual([[iso(E), 2]]);
  });

  it("the current period's chargeback cancelled while the period before it is still owed (charged back too): past_due until that one is collected again, then active (issue 11)", async () => {
    goCardless();
    const E4 = Date.parse("2027-05-10T09:00:00.000Z");
    const { id, paid } = await threeRenewalsPaid();
    const [p2, p3] = [paid[iso(E2)], paid[iso(E3)]];
    await webhookAt(E3 + DAY, paymentEvent("charged_back", p2.id, p2.providerPaymentId, "authorisation_disputed"));
    await webhookAt(E3 + DAY + HOUR, paymentEvent("charged_back", p3.id, p3.providerPaymentId, "authorisation_disputed"));
    await webhookAt(E3 + DAY + 2 * HOUR, paymentEvent("chargeback_cancelled", p3.id, p3.providerPaymentId));
    // E3..E4 stands paid again, E2..E3 is still owed.
    expect(await subscription(id)).toMatchObject({ status: "past_due", currentPeriodStart: iso(E3), currentPeriodEnd: iso(E4) });
    expect(kinds(await run(E3 + DAY + 3 * HOUR))).toMatchObject({ retry: { done: 1 } });
    const retry = (await attempts(id)).find((row) => row.status === "processing")!;
    expect(retry).toMatchObject({ periodStart: iso(E2), attemptNumber: 2 });
    await webhookAt(E3 + 2 * DAY, paymentEvent("confirmed", retry.id, retry.providerPaymentId));
    expect(await subscription(id)).toMatchObject({ status: "active", currentPeriodStart: iso(E3), currentPeriodEnd: iso(E4) });
  });

  it.each([
    ["the middle, the current, then the oldest", [1, 2, 0]],
    ["the current, the oldest, then the middle", [2, 0, 1]],
  ] as const)("three periods charged back on one subscription (%s): each is owed again and collected once, oldest first, nothing charged twice", async (_, chargebackOrder) => {
    const gc = goCardless();
    const E4 = Date.parse("2027-05-10T09:00:00.000Z");
    const { id, paid } = await threeRenewalsPaid(0);
    expect(await subscription(id)).toMatchObject({ status: "active", currentPeriodStart: iso(E3), currentPeriodEnd: iso(E4) });
    let at = E3 + DAY;
    for (const period of chargebackOrder.map((i) => [E, E2, E3][i]!)) {
      const renewal = paid[iso(period)];
      await webhookAt(at, paymentEvent("charged_back", renewal.id, renewal.providerPaymentId, "authorisation_disputed"));
      expect((await subscription(id))!.status).toBe("past_due");
      at += HOUR;
    }
    // Collected again one at a time (one payment in flight), the oldest period first.
    for (const period of [E, E2, E3]) {
      expect((await run(at)).done).toBeGreaterThan(0);
      const open = (await attempts(id)).filter((row) => row.status === "processing");
      expect(open.map((row) => [row.periodStart, row.attemptNumber])).toEqual([[iso(period), 2]]);
      await webhookAt(at + HOUR, paymentEvent("confirmed", open[0]!.id, open[0]!.providerPaymentId));
      at += 2 * HOUR;
    }
    expect(await subscription(id)).toMatchObject({ status: "active", currentPeriodStart: iso(E3), currentPeriodEnd: iso(E4) });
    expect(await run(at)).toMatchObject({ due: 0 });
    // Three renewals and three collections again: each period charged twice in all, once standing.
    const posts = gc.sent.filter((request) => request.method === "POST" && request.url === "/payments");
    expect(posts).toHaveLength(6);
    const standing = (await attempts(id)).filter((row) => row.status === "succeeded").map((row) => row.periodStart);
    expect(standing.sort()).toEqual([iso(T0), iso(E), iso(E2), iso(E3)]);
    expect(await refundsDue(id)).toEqual([]);
  });

  describe("a period's collection taken back while the next period's renewal is in flight (issue 11, overlap)", () => {
    /** How GoCardless takes a collected payment back. */
    const REVERSALS: [string, (attemptId: string, paymentId: string) => ReturnType<typeof paymentEvent>][] = [
      ["charged back", (a, pm) => paymentEvent("charged_back", a, pm, "authorisation_disputed")],
      ["failed late", (a, pm) => paymentEvent("failed", a, pm, "refer_to_payer")],
      ["chargeback_settled alone", (a, pm) => paymentEvent("chargeback_settled", a, pm, "authorisation_disputed")],
    ];

    /**
     * Eve's subscription paid at T0 (`laterCycle`: and its renewal for E..E2 paid a day ahead); the next
     * renewal sent 2 days before the paid period ends (in flight); then the paid period's payment taken
     * back by `reversal`: that period (`owed`) is owed again, the renewal in flight is for the one after (`next`).
     */
    async function reversedUnderRenewal(reversal: (typeof REVERSALS)[number][1], laterCycle: boolean) {
      const id = await activeAtT0(eve);
      let [paid] = await attempts(id);
      let [owed, next] = [T0, E];
      if (laterCycle) {
        await run(E - 2 * DAY);
        paid = (await attempts(id)).find((row) => row.periodStart === iso(E));
        await webhookAt(E - DAY, paymentEvent("confirmed", paid!.id, paid!.providerPaymentId));
        [owed, next] = [E, E2];
      }
      await run(next - 2 * DAY);
      const renewal = (await attempts(id)).find((row) => row.periodStart === iso(next))!;
      expect(renewal).toMatchObject({ status: "processing", attemptNumber: 1 });
      await webhookAt(next - 2 * DAY + HOUR, reversal(paid!.id, paid!.providerPaymentId));
      expect(await subscription(id)).toMatchObject({ status: "past_due", currentPeriodEnd: iso(owed) });
      return { id, renewal, owed, next };
    }
    const owedAttempts = async (id: string, owed: number) => (await attempts(id)).filter((row) => row.periodStart === iso(owed)).map((row) => [row.attemptNumber, row.status]);

    it.each(REVERSALS.flatMap(([name, reversal]) => [[`the first period's payment ${name}`, reversal, false], [`the second period's payment ${name}`, reversal, true]] as const))(
      "%s, then the renewal in flight confirmed: its money pays the period owed (that period's next attempt), and the engine collects the next period anew — never a 500",
      async (_, reversal, laterCycle) => {
        const gc = goCardless();
        const { id, renewal, owed, next } = await reversedUnderRenewal(reversal, laterCycle);
        await webhookAt(next - DAY, paymentEvent("confirmed", renewal.id, renewal.providerPaymentId));
        expect(await subscription(id)).toMatchObject({ status: "active", currentPeriodStart: iso(owed), currentPeriodEnd: iso(next) });
        expect(await owedAttempts(id, owed)).toEqual([[1, "failed"], [2, "succeeded"]]);
        expect(await refundsDue(id)).toEqual([]);

        expect(kinds(await run(next - DAY + 15 * MINUTE))).toMatchObject({ renewal: { done: 1 }, submit: { done: 1 } });
        const again = (await attempts(id)).find((row) => row.status === "processing")!;
        expect(again).toMatchObject({ periodStart: iso(next), attemptNumber: 1 });
        await webhookAt(next, paymentEvent("confirmed", again.id, again.providerPaymentId));
        expect(await subscription(id)).toMatchObject({ status: "active", currentPeriodStart: iso(next) });
        expect(await refundsDue(id)).toEqual([]);
        expect(gc.sent.filter((request) => request.method === "POST" && request.url === "/payments")).toHaveLength(laterCycle ? 3 : 2);
      },
    );

    it("a renewal the user started through the API keeps its Idempotency-Key when its money pays the period owed: a replay answers that attempt, nothing new is started", async () => {
      goCardless();
      const id = await activeAtT0(eve);
      const [first] = await attempts(id);
      vi.setSystemTime(E - 2 * DAY);
      const user = await signIn({ ...eve, ip: freshClientIp() });
      const started = await startPayment(user, id, "renewal-by-eve");
      await run(E - 2 * DAY + MINUTE);
      const renewal = (await attempts(id)).find((row) => row.id === started.id)!;
      expect(renewal).toMatchObject({ status: "processing", periodStart: iso(E) });
      await webhookAt(E - 2 * DAY + HOUR, paymentEvent("charged_back", first!.id, first!.providerPaymentId, "authorisation_disputed"));
      await webhookAt(E - DAY, paymentEvent("confirmed", renewal.id, renewal.providerPaymentId));
      expect(await subscription(id)).toMatchObject({ status: "active", currentPeriodStart: iso(T0), currentPeriodEnd: iso(E) });
      const replayed = await api(`/api/billing/subscriptions/${id}/payment-attempts`, { user, method: "POST", headers: { "Idempotency-Key": "renewal-by-eve" } });
      expect(replayed.status).toBe(201);
      expect(replayed.body.paymentAttempt).toMatchObject({ id: started.id, status: "succeeded" });
      expect(await attempts(id)).toHaveLength(2);
    });

    it("the renewal's confirmed delivered with another user's mandates.active (the break-it's delivery): 200, both applied", async () => {
      goCardless();
      const { id, renewal, owed } = await reversedUnderRenewal(REVERSALS[0]![1], false);
      const olga = await signedInUser("olga-engine@example.com");
      const pending = await tokenBodyFor(olga);
      expect((await api("/api/billing/direct-debit-tokens", { user: olga, json: pending })).status).toBe(201);
      vi.setSystemTime(E - DAY);
      const response = await sendWebhook([paymentEvent("confirmed", renewal.id, renewal.providerPaymentId), mandateEvent(pending.token, "active")]);
      expect({ status: response.status, body: await response.json() }).toMatchObject({ status: 200, body: { results: [{ outcome: "applied" }, { outcome: "applied" }] } });
      expect(await env.DB.prepare("select status from direct_debit_tokens where userId = ?").bind(olga.id).first("status")).toBe("active");
      expect(await subscription(id)).toMatchObject({ status: "active", currentPeriodStart: iso(owed) });
    });

    it("the first period's payment charged back, then the renewal in flight confirmed only after that period ended: it pays exactly that period (it was served), not a new cycle from the confirmation, and the next period is collected at once", async () => {
      goCardless();
      const { id, renewal, owed, next } = await reversedUnderRenewal(REVERSALS[0]![1], false);
      await webhookAt(next + DAY, paymentEvent("confirmed", renewal.id, renewal.providerPaymentId));
      expect(await subscription(id)).toMatchObject({ currentPeriodStart: iso(owed), currentPeriodEnd: iso(next) });
      expect(await owedAttempts(id, owed)).toEqual([[1, "failed"], [2, "succeeded"]]);
      expect(kinds(await run(next + DAY + 15 * MINUTE))).toMatchObject({ renewal: { done: 1 }, submit: { done: 1 } });
      expect((await attempts(id)).find((row) => row.status === "processing")).toMatchObject({ periodStart: iso(next), attemptNumber: 1 });
      expect(await subscription(id)).toMatchObject({ status: "past_due", currentPeriodEnd: iso(next) });
      expect(await refundsDue(id)).toEqual([]);
    });

    it("the first period's payment charged back, then the renewal in flight charged back before its confirmed: both collections taken back, the period owed is collected again as its attempt 3 and its confirmation pays it", async () => {
      goCardless();
      const { id, renewal, owed } = await reversedUnderRenewal(REVERSALS[0]![1], false);
      await webhookAt(E - DAY, paymentEvent("charged_back", renewal.id, renewal.providerPaymentId, "authorisation_disputed"));
      expect(await subscription(id)).toMatchObject({ status: "past_due", currentPeriodEnd: iso(owed) });
      expect(await owedAttempts(id, owed)).toEqual([[1, "failed"], [2, "failed"]]);

      expect(kinds(await run(E - DAY + 15 * MINUTE))).toMatchObject({ retry: { done: 1 }, submit: { done: 1 } });
      const again = (await attempts(id)).find((row) => row.status === "processing")!;
      expect(again).toMatchObject({ periodStart: iso(owed), attemptNumber: 3 });
      await webhookAt(E - DAY + HOUR, paymentEvent("confirmed", again.id, again.providerPaymentId));
      expect(await subscription(id)).toMatchObject({ status: "active", currentPeriodStart: iso(owed), currentPeriodEnd: iso(E) });
      expect(await refundsDue(id)).toEqual([]);
    });

    it.each([
      ["charged back", false],
      ["failed late, then resubmitted by GoCardless", true],
    ])(
      "three rounds: each renewal's money pays the first period, then that money is taken back (%s) and the next renewal's money pays it again — every payment recorded, no 500, every engine key names its attempt's period and number (issue 11, rekey)",
      async (_, resubmitted) => {
        goCardless();
        const id = await activeAtT0(eve);
        const [first] = await attempts(id);
        await run(E - 2 * DAY);
        let taken = first!;
        let at = E - 2 * DAY + HOUR;
        const send = async (...events: [string, Record<string, any>, string?][]) => {
          for (const [action, row, cause] of events) {
            vi.setSystemTime((at += MINUTE));
            await webhookAt(at, paymentEvent(action, row.id, row.providerPaymentId, cause));
          }
        };
        for (let round = 1; round <= 3; round++) {
          const renewal = (await attempts(id)).find((row) => row.status === "processing")!;
          expect(renewal).toMatchObject({ periodStart: iso(E), attemptNumber: 1 });
          // The collection paying the first period is taken back; then the renewal in flight is confirmed.
          await send(...(resubmitted && round > 1 ? [["failed", taken, "refer_to_payer"], ["resubmission_requested", taken]] : [["charged_back", taken, "authorisation_disputed"]]) as [string, Record<string, any>, string?][]);
          await send(["confirmed", renewal]);
          expect(await subscription(id)).toMatchObject({ status: "active", currentPeriodStart: iso(T0), currentPeriodEnd: iso(E) });
          expect((await attempts(id)).find((row) => row.id === renewal.id)).toMatchObject({ status: "succeeded", periodStart: iso(T0), attemptNumber: round + 1 });
          expect(await refundsDue(id)).toEqual([]);
          // The engine collects the period left with the number the moved renewal gave up.
          expect(kinds(await run((at += MINUTE)))).toMatchObject({ renewal: { done: 1 }, submit: { done: 1 } });
          taken = renewal;
        }
        const last = (await attempts(id)).find((row) => row.status === "processing")!;
        expect(last).toMatchObject({ periodStart: iso(E), attemptNumber: 1 });
        await send(["confirmed", last]);
        expect(await subscription(id)).toMatchObject({ status: "active", currentPeriodStart: iso(E), currentPeriodEnd: iso(E2) });
        expect(await refundsDue(id)).toEqual([]);
        const { results } = await env.DB.prepare("select periodStart, attemptNumber, status, idempotencyKey from payment_attempts where subscriptionId = ? and idempotencyKey like 'engine:%' order by periodStart, attemptNumber")
          .bind(id)
          .all<Record<string, any>>();
        expect(results.map((row) => [row.periodStart, row.attemptNumber, row.status, row.idempotencyKey])).toEqual([
          ...[2, 3, 4].map((n) => [iso(T0), n, n === 4 ? "succeeded" : resubmitted ? "canceled" : "failed", `engine:${id}:${iso(T0)}:${n}`]),
          [iso(E), 1, "succeeded", `engine:${id}:${iso(E)}:1`],
        ]);
      },
    );

    it.each([
      ["charged back; then cancelled now and the renewal confirmed", false, ["renewal"]],
      ["failed late and resubmitted (set aside); then cancelled now, the renewal confirmed, then the resubmission", true, ["renewal", "first"]],
      ["failed late and resubmitted (set aside); then cancelled now, the resubmission confirmed, then the renewal", true, ["first", "renewal"]],
    ] as const)(
      "the first period's payment %s: money that pays that period (served before the end) is kept, as a dispute won is (¹⁰); a second collection of it is owed back (issue 11, rekey item 3)",
      async (_, resubmitted, confirmations) => {
        goCardless();
        const id = await activeAtT0(eve);
        const [first] = await attempts(id);
        await run(E - 2 * DAY);
        const renewal = (await attempts(id)).find((row) => row.status === "processing")!;
        vi.setSystemTime(E - 2 * DAY + HOUR);
        const taken = resubmitted
          ? happenedInOrder([paymentEvent("failed", first!.id, first!.providerPaymentId, "refer_to_payer"), paymentEvent("resubmission_requested", first!.id, first!.providerPaymentId)])
          : [paymentEvent("charged_back", first!.id, first!.providerPaymentId, "authorisation_disputed")];
        for (const event of taken) await webhookAt(E - 2 * DAY + HOUR, event);
        vi.setSystemTime(E - 2 * DAY + 2 * HOUR);
        expect((await api(`/api/billing/subscriptions/${id}/cancel`, { user: await signIn({ ...eve, ip: freshClientIp() }), json: { atPeriodEnd: false } })).status).toBe(200);
        const rows = { renewal, first: first! };
        let at = E - 2 * DAY + 3 * HOUR;
        for (const name of confirmations) {
          vi.setSystemTime((at += HOUR));
          await webhookAt(at, paymentEvent("confirmed", rows[name].id, rows[name].providerPaymentId));
        }
        expect(await subscription(id)).toMatchObject({ status: "canceled" });
        // The first money to arrive pays the served period and is kept (the renewal's moves there); a second one is owed back.
        expect((await attempts(id)).find((row) => row.id === rows[confirmations[0]].id)).toMatchObject({ status: "succeeded", periodStart: iso(T0) });
        expect(await refundsDue(id)).toEqual(confirmations.slice(1).map((name) => rows[name].id));
      },
    );

    it.each(
      permutations(["P1 charged back", "P2 charged back", "R3 confirmed"]).map((order) => [
        order.join(", "),
        order,
        // Which owed period the renewal's money pays: the period after the last paid as the events left it
        // (docs/billing-lifecycle.md ⁷) — the newest owed one only when both chargebacks came first, the older first.
        order[2] === "R3 confirmed" && order[0] === "P1 charged back" ? E : order[2] === "R3 confirmed" ? T0 : order[0] === "P2 charged back" ? E : E2,
      ]),
    )(
      "two paid periods charged back around the renewal in flight (%s): every period ends paid exactly once, nothing owed back (issue 11, rekey item 2)",
      async (_, order, paidByRenewal) => {
        const gc = goCardless();
        const id = await activeAtT0(eve);
        const [p1] = await attempts(id);
        await run(E - 2 * DAY);
        const p2 = (await attempts(id)).find((row) => row.periodStart === iso(E))!;
        await webhookAt(E - DAY, paymentEvent("confirmed", p2.id, p2.providerPaymentId));
        await run(E2 - 2 * DAY);
        const r3 = (await attempts(id)).find((row) => row.periodStart === iso(E2))!;
        const rows: Record<string, Record<string, any>> = { P1: p1!, P2: p2, R3: r3 };
        let at = E2 - 2 * DAY + HOUR;
        for (const step of order) {
          const [name, action] = step.split(" ") as [string, string];
          vi.setSystemTime((at += MINUTE));
          await webhookAt(at, paymentEvent(action === "charged" ? "charged_back" : "confirmed", rows[name]!.id, rows[name]!.providerPaymentId, action === "charged" ? "authorisation_disputed" : undefined));
        }
        expect((await attempts(id)).find((row) => row.id === r3.id)).toMatchObject({ status: "succeeded", periodStart: iso(paidByRenewal) });
        // The engine collects what is owed, one payment at a time, until nothing is due.
        for (let i = 0; i < 3 && (await run((at += HOUR))).done > 0; i++) {
          const open = (await attempts(id)).find((row) => row.status === "processing")!;
          await webhookAt((at += HOUR), paymentEvent("confirmed", open.id, open.providerPaymentId));
        }
        expect(await subscription(id)).toMatchObject({ status: "active", currentPeriodStart: iso(E2), currentPeriodEnd: iso(E3) });
        const standing = (await attempts(id)).filter((row) => row.status === "succeeded").map((row) => row.periodStart);
        expect(standing.sort()).toEqual([iso(T0), iso(E), iso(E2)]);
        expect(await refundsDue(id)).toEqual([]);
        expect(gc.sent.filter((request) => request.method === "POST" && request.url === "/payments")).toHaveLength(4);
      },
    );
  });

  describe("GoCardless resubmits the collected payment of a period while the next period's renewal is in flight (issue 11, overlap)", () => {
    /**
     * Eve's renewal for E..E2 paid a day ahead, the renewal for E2..E3 sent at E2−2d (in flight); then
     * GoCardless resubmits the E..E2 payment (its late failure arriving first, or after: overtaken).
     * The resubmission cannot be open beside the renewal (one payment in flight per subscription):
     * it is set aside and GoCardless asked to cancel it; the renewal in flight collects the period owed.
     */
    async function resubmittedUnderRenewal(lateFailureFirst: boolean) {
      const id = await activeAtT0(eve);
      await run(E - 2 * DAY);
      const p2 = (await attempts(id)).find((row) => row.periodStart === iso(E))!;
      await webhookAt(E - DAY, paymentEvent("confirmed", p2.id, p2.providerPaymentId));
      await run(E2 - 2 * DAY);
      const p3 = (await attempts(id)).find((row) => row.periodStart === iso(E2))!;
      vi.setSystemTime(E2 - 2 * DAY + HOUR);
      const [failed, resubmission] = happenedInOrder([paymentEvent("failed", p2.id, p2.providerPaymentId, "refer_to_payer"), paymentEvent("resubmission_requested", p2.id, p2.providerPaymentId)]);
      for (const event of lateFailureFirst ? [failed!, resubmission!] : [resubmission!, failed!]) await webhookAt(E2 - 2 * DAY + HOUR, event);
      const row = () => env.DB.prepare("select status, failureCode, providerCancel, refundDue, periodStart from payment_attempts where id = ?").bind(p2.id).first();
      expect(await row()).toEqual({ status: "canceled", failureCode: "other_payment_in_flight", providerCancel: "due", refundDue: 0, periodStart: iso(E) });
      expect(await subscription(id)).toMatchObject({ status: "past_due", currentPeriodEnd: iso(E) });
      expect((await attempts(id)).find((r) => r.id === p3.id)).toMatchObject({ status: "processing" });
      return { id, p2, p3, row };
    }

    it.each([
      ["its late failure first", true],
      ["its late failure after (overtaken)", false],
    ])("set aside (%s) and cancelled at GoCardless; the renewal in flight pays the period owed, and the engine collects the next period anew", async (_, lateFailureFirst) => {
      const gc = goCardless();
      const { id, p2, p3, row } = await resubmittedUnderRenewal(lateFailureFirst);
      await webhookAt(E2 - DAY, paymentEvent("confirmed", p3.id, p3.providerPaymentId));
      expect(await subscription(id)).toMatchObject({ status: "active", currentPeriodStart: iso(E), currentPeriodEnd: iso(E2) });
      expect(kinds(await run(E2 - DAY + 15 * MINUTE))).toMatchObject({ cancel: { done: 1 } });
      expect(gc.sent.filter((request) => request.url.endsWith("/actions/cancel")).map((request) => request.url)).toEqual([`/payments/${p2.providerPaymentId}/actions/cancel`]);
      expect(await row()).toMatchObject({ status: "canceled", providerCancel: "cancelled" });
      await run(E2 - DAY + 30 * MINUTE);
      const next = (await attempts(id)).find((r) => r.status === "processing")!;
      expect(next).toMatchObject({ periodStart: iso(E2), attemptNumber: 1 });
      await webhookAt(E2, paymentEvent("confirmed", next.id, next.providerPaymentId));
      expect(await subscription(id)).toMatchObject({ status: "active", currentPeriodStart: iso(E2), currentPeriodEnd: iso(E3) });
      expect(await refundsDue(id)).toEqual([]);
    });

    it.each([
      ["after the renewal in flight paid the period owed: owed back", true],
      ["before the renewal in flight is confirmed: it pays the period owed, and the renewal its own period", false],
    ])("set aside, its cancel refused (already submitted), then GoCardless collects it %s — no period paid twice", async (_, renewalFirst) => {
      const gc = goCardless();
      const { id, p2, p3, row } = await resubmittedUnderRenewal(true);
      gc.payments.get(p2.providerPaymentId)!.payments.status = "submitted";
      expect(kinds(await run(E2 - 2 * DAY + 2 * HOUR))).toMatchObject({ cancel: { done: 1 } });
      expect(await row()).toMatchObject({ providerCancel: "cancellation_failed" });
      const [first, second] = renewalFirst ? [p3, p2] : [p2, p3];
      await webhookAt(E2 - DAY, paymentEvent("confirmed", first.id, first.providerPaymentId));
      await webhookAt(E2 - DAY + HOUR, paymentEvent("confirmed", second.id, second.providerPaymentId));
      if (renewalFirst) {
        expect(await subscription(id)).toMatchObject({ status: "active", currentPeriodStart: iso(E), currentPeriodEnd: iso(E2) });
        expect(await refundsDue(id)).toEqual([p2.id]);
      } else {
        expect(await subscription(id)).toMatchObject({ status: "active", currentPeriodStart: iso(E2), currentPeriodEnd: iso(E3) });
        expect(await refundsDue(id)).toEqual([]);
        expect(await row()).toMatchObject({ status: "succeeded", periodStart: iso(E) });
        expect((await attempts(id)).find((r) => r.id === p3.id)).toMatchObject({ status: "succeeded", periodStart: iso(E2), attemptNumber: 1 });
      }
    });

    it("the renewal in flight confirmed first, then GoCardless resubmits the payment before it: open again (collecting the older period owed), and its confirmation pays that period", async () => {
      goCardless();
      const id = await activeAtT0(eve);
      await run(E - 2 * DAY);
      const p2 = (await attempts(id)).find((row) => row.periodStart === iso(E))!;
      await webhookAt(E - DAY, paymentEvent("confirmed", p2.id, p2.providerPaymentId));
      await run(E2 - 2 * DAY);
      const p3 = (await attempts(id)).find((row) => row.periodStart === iso(E2))!;
      await webhookAt(E2 - DAY, paymentEvent("confirmed", p3.id, p3.providerPaymentId));
      await webhookAt(E2 - DAY + HOUR, paymentEvent("resubmission_requested", p2.id, p2.providerPaymentId));
      expect(await subscription(id)).toMatchObject({ status: "past_due", currentPeriodStart: iso(E2), currentPeriodEnd: iso(E3) });
      expect((await attempts(id)).find((r) => r.id === p2.id)).toMatchObject({ status: "processing" });
      await webhookAt(E2 + DAY, paymentEvent("confirmed", p2.id, p2.providerPaymentId));
      expect(await subscription(id)).toMatchObject({ status: "active", currentPeriodStart: iso(E2), currentPeriodEnd: iso(E3) });
      expect(await refundsDue(id)).toEqual([]);
    });
  });

  describe("a late failure that overtakes its own confirmed, in every arrival order", () => {
    // One renewal's payment, in GoCardless's order (its first `submitted` came before all of it):
    // collected, failed late, resubmitted by GoCardless, submitted, collected again, paid out,
    // the late failure settled from a payout. Without the resubmission: collected, paid out, failed late, settled.
    const RESUBMITTED = ["confirmed", "failed", "resubmission_requested", "submitted", "confirmed again", "paid_out", "late_failure_settled"];
    const LATE_FAILURE = ["confirmed", "paid_out", "failed", "late_failure_settled"];
    type Case = { order: readonly string[]; subscriptionId: string; attemptId: string; paymentId: string };
    /** One subscription per order, active until E, its renewal for E sent (processing). */
    async function seedCases(orders: readonly (readonly string[])[], prefix: string): Promise<Case[]> {
      const rows = orders.map(() => planRow({ amountMinor: 1500, currency: "GBP" }));
      await env.DB.batch(rows.map((row) => env.DB.prepare("insert into subscription_plans (id, code, name, description, amountMinor, currency, interval, intervalCount, trialDays, active, createdBy, createdAt, updatedAt) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)").bind(row.id, row.code, row.name, row.description, row.amountMinor, row.currency, row.interval, row.intervalCount, row.trialDays, row.active, row.createdBy, row.createdAt, row.updatedAt)));
      const cases = rows.map((plan, i) => ({ order: orders[i]!, subscriptionId: `${prefix}-${i}`, attemptId: `${prefix}-${i}-a`, paymentId: `PM${prefix}${i}`.toUpperCase(), planId: plan.id }));
      await env.DB.batch(
        cases.flatMap((c) => [
          env.DB.prepare("insert into user_subscriptions (id, userId, planId, status, currentPeriodStart, currentPeriodEnd, billingCycleAnchor, trialEndsAt, cancelAtPeriodEnd, canceledAt, endedAt, provider, providerSubscriptionId, createdAt, updatedAt) values (?, ?, ?, 'active', ?, ?, ?, null, 0, null, null, 'gocardless', null, ?, ?)").bind(c.subscriptionId, eve.id, c.planId, iso(T0), iso(E), iso(T0), iso(T0), iso(T0)),
          seededAttempt.bind(c.attemptId, eve.id, c.subscriptionId, "processing", 1, iso(E), c.attemptId, "c".repeat(64), c.paymentId, null, iso(E - 2 * DAY), iso(E - 2 * DAY)),
        ]),
      );
      return cases;
    }
    function eventOf(c: Case, name: string, happened: readonly string[]) {
      const action = name === "confirmed again" ? "confirmed" : name;
      const event = paymentEvent(action, c.attemptId, c.paymentId, action === "failed" ? "refer_to_payer" : action);
      // GoCardless stamps each when it happens: a day apart, from the period's end.
      return { ...event, created_at: iso(E + happened.indexOf(name) * DAY) };
    }
    /** Step k of every case in one delivery (each case's events are about its own rows); returns them all. */
    async function deliverEveryOrder(cases: Case[], happened: readonly string[]) {
      const all: ReturnType<typeof paymentEvent>[] = [];
      for (let step = 0; step < cases[0]!.order.length; step++) {
        const events = cases.map((c) => eventOf(c, c.order[step]!, happened));
        all.push(...events);
        await webhookAt(E + 8 * DAY + step * HOUR, ...events);
      }
      return all;
    }
    /** GoCardless redelivers: 250 events a delivery. */
    async function redeliver(events: ReturnType<typeof paymentEvent>[]) {
      for (let i = 0; i < events.length; i += 250) await webhookAt(E + 9 * DAY, ...events.slice(i, i + 250));
    }
    async function stateOf(c: Case) {
      const rows = await attempts(c.subscriptionId);
      return { order: c.order.join(", "), subscription: await subscription(c.subscriptionId), attempts: rows.map((row) => [row.attemptNumber, row.status]), refundsDue: await refundsDue(c.subscriptionId) };
    }

    it("resubmitted and collected again: the resubmission's money pays the period once, whatever came first; nothing is retried or owed back", async () => {
      const gc = goCardless();
      // The five money events in all 120 orders; the second submitted and the settlement at a position that moves with the case.
      const money = permutations(["confirmed", "failed", "resubmission_requested", "confirmed again", "paid_out"]);
      const orders = money.map((order, i) => {
        const with6 = [...order.slice(0, i % 6), "submitted", ...order.slice(i % 6)];
        const at = Math.floor(i / 6) % 7;
        return [...with6.slice(0, at), "late_failure_settled", ...with6.slice(at)];
      });
      const cases = await seedCases(orders, "lfr");
      await redeliver(await deliverEveryOrder(cases, RESUBMITTED));
      for (const c of cases) {
        expect(await stateOf(c)).toEqual({
          order: c.order.join(", "),
          subscription: expect.objectContaining({ status: "active", currentPeriodStart: iso(E), currentPeriodEnd: iso(E2) }),
          attempts: [[1, "succeeded"]],
          refundsDue: [],
        });
      }
      const summary = await run(E + 10 * DAY, { BILLING_ENGINE_CHUNK: "150" });
      expect(summary).toMatchObject({ due: 0 });
      expect(gc.sent).toEqual([]);
    });

    it("failed late and not resubmitted: the period is owed again at once, whatever came first (no settlement needed), and the engine collects it with attempt 2", async () => {
      goCardless();
      const cases = await seedCases(permutations(LATE_FAILURE.slice(0, 3)), "lfo");
      const owed = async () => {
        for (const c of cases) {
          expect(await stateOf(c)).toEqual({
            order: c.order.join(", "),
            subscription: expect.objectContaining({ status: "past_due", currentPeriodStart: iso(T0), currentPeriodEnd: iso(E) }),
            attempts: [[1, "failed"]],
            refundsDue: [],
          });
        }
      };
      const delivered = await deliverEveryOrder(cases, LATE_FAILURE);
      await owed();
      // Days later GoCardless settles the late failure; every event may come again.
      await redeliver([...cases.map((c) => eventOf(c, "late_failure_settled", LATE_FAILURE)), ...delivered]);
      await owed();
      expect(kinds(await run(E + 10 * DAY, { BILLING_ENGINE_CHUNK: "150" })).retry).toMatchObject({ due: cases.length, done: cases.length });
      for (const c of cases) expect((await attempts(c.subscriptionId)).map((row) => [row.attemptNumber, row.status, row.periodStart])).toEqual([[1, "failed", iso(E)], [2, "processing", iso(E)]]);
    });

    it("a renewal that failed, was resubmitted by GoCardless and then cancelled ends failed in every arrival order (the cancel before its resubmission too), once, and the engine collects the period again (issue 11, break-it F7)", async () => {
      const gc = goCardless();
      const CANCELLED = ["failed", "resubmission_requested", "cancelled"];
      const cases = await seedCases(permutations(CANCELLED), "frc");
      const ended = async () => {
        for (const c of cases) {
          expect(await stateOf(c)).toEqual({
            order: c.order.join(", "),
            subscription: expect.objectContaining({ status: "past_due", currentPeriodStart: iso(T0), currentPeriodEnd: iso(E) }),
            attempts: [[1, "failed"]],
            refundsDue: [],
          });
          // GoCardless's cancellation is the attempt's last word: a failed collection, on the retry schedule.
          // Reaching the failed attempt before its resubmission, it is recorded only: the failure stands (L4).
          const cause = c.order.join() === "failed,cancelled,resubmission_requested" ? "refer_to_payer" : "cancelled";
          expect((await attempts(c.subscriptionId))[0]).toMatchObject({ failureCode: cause, nextRetryAt: expect.any(String) });
        }
      };
      const delivered = await deliverEveryOrder(cases, CANCELLED);
      await ended();
      // The cancel is the payment's last word: the same after every event comes again.
      await redeliver(delivered);
      await ended();
      // The period is still owed: the engine collects it again (attempt 2), never unpaid with a retry left (break-it F7).
      expect(kinds(await run(E + 12 * DAY, { BILLING_ENGINE_CHUNK: "150" })).retry).toMatchObject({ due: cases.length, done: cases.length });
      for (const c of cases) {
        expect(await subscription(c.subscriptionId)).toMatchObject({ status: "past_due" });
        expect((await attempts(c.subscriptionId)).map((row) => [row.attemptNumber, row.status])).toEqual([[1, "failed"], [2, "processing"]]);
      }
      expect(gc.sent.filter((request) => request.url === "/payments")).toHaveLength(cases.length);
    });

    it("collected, failed late, resubmitted, then cancelled: in every arrival order the period is owed again, the attempt ends failed, and the engine collects the period with attempt 2 (issue 11)", async () => {
      goCardless();
      const LATE_CANCELLED = ["confirmed", "failed", "resubmission_requested", "cancelled"];
      const cases = await seedCases(permutations(LATE_CANCELLED), "lfc");
      await redeliver(await deliverEveryOrder(cases, LATE_CANCELLED));
      for (const c of cases) {
        expect(await stateOf(c)).toEqual({
          order: c.order.join(", "),
          subscription: expect.objectContaining({ status: "past_due", currentPeriodStart: iso(T0), currentPeriodEnd: iso(E) }),
          attempts: [[1, "failed"]],
          refundsDue: [],
        });
      }
      expect(kinds(await run(E + 10 * DAY, { BILLING_ENGINE_CHUNK: "150" })).retry).toMatchObject({ due: cases.length, done: cases.length });
      for (const c of cases) expect((await attempts(c.subscriptionId)).map((row) => [row.attemptNumber, row.status])).toEqual([[1, "failed"], [2, "processing"]]);
    });
  });

  describe("both collections of a period reversed, their four events in every arrival order", () => {
    // P1: GoCardless's resubmission of our failed renewal (processing); P2: our retry, set aside
    // when P1 was resubmitted but already sent (GoCardless collects it anyway).
    const EVENTS = ["P2 confirmed", "P1 confirmed", "P1 failed", "P2 charged_back"] as const;
    const orders = permutations([...EVENTS]);

    type Case = { order: readonly string[]; subscriptionId: string; p1: string; p2: string; pm1: string; pm2: string };
    /** One past-due subscription per order: P1 processing (resubmitted), P2 set aside but sent. */
    async function seedCases(caseOrders: readonly (readonly string[])[], prefix: string): Promise<Case[]> {
      const rows = caseOrders.map(() => planRow({ amountMinor: 1500, currency: "GBP" }));
      await env.DB.batch(rows.map((row) => env.DB.prepare("insert into subscription_plans (id, code, name, description, amountMinor, currency, interval, intervalCount, trialDays, active, createdBy, createdAt, updatedAt) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)").bind(row.id, row.code, row.name, row.description, row.amountMinor, row.currency, row.interval, row.intervalCount, row.trialDays, row.active, row.createdBy, row.createdAt, row.updatedAt)));
      const cases = rows.map((plan, i) => ({ order: caseOrders[i]!, subscriptionId: `${prefix}-${i}`, p1: `${prefix}-${i}-p1`, p2: `${prefix}-${i}-p2`, pm1: `PM${prefix}${i}A`.toUpperCase(), pm2: `PM${prefix}${i}B`.toUpperCase(), planId: plan.id }));
      await env.DB.batch(
        cases.flatMap((c) => [
          env.DB.prepare("insert into user_subscriptions (id, userId, planId, status, currentPeriodStart, currentPeriodEnd, billingCycleAnchor, trialEndsAt, cancelAtPeriodEnd, canceledAt, endedAt, provider, providerSubscriptionId, createdAt, updatedAt) values (?, ?, ?, 'past_due', ?, ?, ?, null, 0, null, null, 'gocardless', null, ?, ?)").bind(c.subscriptionId, eve.id, c.planId, iso(T0), iso(E), iso(T0), iso(T0), iso(T0)),
          seededAttempt.bind(c.p1, eve.id, c.subscriptionId, "processing", 1, iso(E), c.p1, "a".repeat(64), c.pm1, null, iso(E), iso(E)),
          seededAttempt.bind(c.p2, eve.id, c.subscriptionId, "canceled", 2, iso(E), c.p2, "b".repeat(64), c.pm2, "superseded_by_resubmission", iso(E + 2 * DAY), iso(E + 2 * DAY)),
        ]),
      );
      return cases;
    }
    /** When GoCardless says each event happened: each collection before its reversal, the settlements last. */
    const HAPPENED = ["P1 confirmed", "P2 confirmed", "P1 failed", "P2 charged_back", "P1 late_failure_settled", "P2 chargeback_settled"];
    function eventOf(c: Case, name: string) {
      const [payment, action] = name.split(" ") as ["P1" | "P2", string];
      const [attemptId, paymentId] = payment === "P1" ? [c.p1, c.pm1] : [c.p2, c.pm2];
      const event = paymentEvent(action!, attemptId, paymentId, action === "confirmed" ? "payment_confirmed" : action === "failed" || action === "charged_back" ? "refer_to_payer" : action);
      return { ...event, created_at: iso(E + 4 * DAY + HAPPENED.indexOf(name) * MINUTE) };
    }
    async function expectReopened(c: Case) {
      const state = { order: c.order.join(", "), subscription: await subscription(c.subscriptionId), succeeded: (await attempts(c.subscriptionId)).filter((row) => row.status === "succeeded").map((row) => row.id), refundsDue: await refundsDue(c.subscriptionId) };
      expect(state).toEqual({ order: c.order.join(", "), subscription: expect.objectContaining({ status: "past_due", currentPeriodEnd: iso(E) }), succeeded: [], refundsDue: [] });
    }

    it("ends with the period owed again at once, nothing owed back, and attempt 3 collected; GoCardless's settlements and redeliveries change nothing", async () => {
      goCardless();
      const cases = await seedCases(orders, "rev");
      // Step k of every case in one delivery (the events of one case are about its own rows only).
      const delivered: ReturnType<typeof paymentEvent>[] = [];
      for (let step = 0; step < EVENTS.length; step++) {
        const events = cases.map((c) => eventOf(c, c.order[step]!));
        delivered.push(...events);
        await webhookAt(E + 5 * DAY + step * HOUR, ...events);
      }
      for (const c of cases) await expectReopened(c);
      // GoCardless deducts both reversals from a payout and says so; every event may come again.
      const settled = cases.flatMap((c) => [eventOf(c, "P1 late_failure_settled"), eventOf(c, "P2 chargeback_settled")]);
      await webhookAt(E + 6 * DAY, ...settled);
      await webhookAt(E + 6 * DAY + HOUR, ...delivered);
      for (const c of cases) await expectReopened(c);

      const summary = await run(E + 7 * DAY, { BILLING_ENGINE_CHUNK: String(cases.length) });
      expect(kinds(summary).retry).toEqual({ due: cases.length, done: cases.length, skipped: 0, failed: 0 });
      // Some orders leave a set-aside payment for GoCardless to cancel (providerCancel due): those calls
      // share the run's provider budget with the submissions, so a second run submits the rest.
      await run(E + 7 * DAY + 15 * MINUTE, { BILLING_ENGINE_CHUNK: String(cases.length) });
      for (const c of cases) expect((await attempts(c.subscriptionId)).find((row) => row.attemptNumber === 3)).toMatchObject({ status: "processing", periodStart: iso(E) });
    });

    it("all six events of a payment pair as parallel deliveries (each its own request), redelivered until accepted, then all again: the same end state", async () => {
      goCardless();
      const six = ["P2 confirmed", "P1 confirmed", "P1 failed", "P2 charged_back", "P1 late_failure_settled", "P2 chargeback_settled"];
      const cases = await seedCases([six, [...six].reverse(), [six[3]!, six[2]!, six[0]!, six[5]!, six[1]!, six[4]!]], "par");
      const events = cases.flatMap((c) => c.order.map((name) => eventOf(c, name)));
      vi.setSystemTime(E + 5 * DAY);
      for (const round of [1, 2]) {
        // GoCardless redelivers what was not accepted (a 500 when other writes kept overtaking an event).
        let pending = events;
        for (let tries = 0; pending.length > 0 && tries < 6; tries++) {
          const statuses = await Promise.all(pending.map((event) => sendWebhook([event], { concurrent: true }).then((response) => response.status)));
          expect(statuses.every((status) => status === 200 || status === 500), `round ${round}`).toBe(true);
          pending = pending.filter((_, i) => statuses[i] !== 200);
        }
        expect(pending).toEqual([]);
      }
      for (const c of cases) await expectReopened(c);
    });
  });

  it("a lost answer, then GoCardless unreachable until the give-up day: the engine asks GoCardless for the mandate's payments first, records the one it created, and never creates a second", async () => {
    const gc = goCardless();
    const id = await activeAtT0(eve);
    gc.faults.push("lose-answer", ...Array<"down">(40).fill("down"));
    for (let at = E - 2 * DAY; at <= E + 6 * DAY; at += 12 * HOUR) await run(at);
    const period = (await attempts(id)).filter((row) => row.periodStart === iso(E));
    const created = gc.paymentIdOf(period[0]!.id);
    expect(created).toBeDefined();
    expect(period.map((row) => [row.attemptNumber, row.status, row.providerPaymentId])).toEqual([[1, "processing", created]]);
    expect(gc.sent.filter((request) => request.method === "GET" && request.url.startsWith("/payments?"))).toEqual([
      expect.objectContaining({ url: `/payments?mandate=${eveMandate}&limit=500`, idempotencyKey: null }),
    ]);
    expect(gc.payments.size).toBe(1);
    // GoCardless's confirmation finds it by its payment id: the period is paid once.
    await webhookAt(E + 6 * DAY + HOUR, paymentEvent("confirmed", period[0]!.id, created!));
    expect(await subscription(id)).toMatchObject({ status: "active", currentPeriodStart: iso(E) });
  });

  it("a lost answer whose payment GoCardless collected, its events naming no attempt: the event is recorded, and the engine records the collection when it learns the payment", async () => {
    const gc = goCardless();
    const id = await activeAtT0(eve);
    gc.faults.push("lose-answer");
    await run(E - 2 * DAY);
    const [attempt] = (await attempts(id)).filter((row) => row.periodStart === iso(E));
    const payment = gc.paymentIdOf(attempt!.id)!;
    gc.payments.get(payment)!.payments.status = "confirmed";
    // GoCardless's confirmation without resource_metadata: nothing names the attempt yet.
    const { resource_metadata: _, ...bare } = paymentEvent("confirmed", attempt!.id, payment);
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    await webhookAt(E - 2 * DAY + MINUTE, bare);
    expect(warn).toHaveBeenCalledWith(expect.stringContaining(payment));
    expect(await env.DB.prepare("select outcome from billing_webhook_events where eventId = ?").bind(bare.id).first("outcome")).toBe("ignored");
    expect((await attempts(id)).find((row) => row.id === attempt!.id)).toMatchObject({ status: "pending", providerPaymentId: null });

    // The next send gets GoCardless's 409 and the payment, already confirmed: recorded as collected.
    expect(kinds(await run(E - 2 * DAY + 15 * MINUTE))).toEqual({ submit: { due: 1, done: 1, skipped: 0, failed: 0 } });
    expect((await attempts(id)).find((row) => row.id === attempt!.id)).toMatchObject({ status: "succeeded", providerPaymentId: payment });
    expect(await subscription(id)).toMatchObject({ status: "active", currentPeriodStart: iso(E) });
    expect(await env.DB.prepare("select outcome from billing_webhook_events where eventId = ?").bind(`api:${payment}:confirmed`).first("outcome")).toBe("applied");
  });

  it("an attempt whose outcome GoCardless cannot be asked about is never given up: it stays pending and is asked about again", async () => {
    const gc = goCardless();
    const id = await activeAtT0(eve);
    gc.faults.push("lose-answer", ...Array<"down">(40).fill("down"));
    gc.otherFaults.push(...Array<"server-error">(40).fill("server-error"));
    for (let at = E - 2 * DAY; at <= E + 3 * DAY; at += 12 * HOUR) await run(at);
    const [attempt] = (await attempts(id)).filter((row) => row.periodStart === iso(E));
    expect(attempt).toMatchObject({ attemptNumber: 1, status: "pending", providerPaymentId: null, failureCode: "internal_server_error" });
    expect((await attempts(id)).filter((row) => row.periodStart === iso(E))).toHaveLength(1);
    // GoCardless answers again: the next due run finds the payment.
    gc.otherFaults.length = 0;
    await run(E + 5 * DAY);
    expect((await attempts(id)).filter((row) => row.periodStart === iso(E))).toEqual([expect.objectContaining({ status: "processing", providerPaymentId: gc.paymentIdOf(attempt!.id) })]);
    expect(gc.payments.size).toBe(1);
  });

  it("our retry, already sent, set aside by GoCardless's resubmission: the engine asks GoCardless to cancel it once and records the answer", async () => {
    const gc = goCardless();
    const { id, period, first } = await renewalFailed();
    await run(E + 2 * DAY);
    const retry = (await period()).find((row) => row.attemptNumber === 2)!;
    expect(retry).toMatchObject({ status: "processing", providerPaymentId: expect.any(String) });
    await webhookAt(E + 2 * DAY + HOUR, paymentEvent("resubmission_requested", first!.id, first!.providerPaymentId));
    const providerCancel = async (attemptId: string) => env.DB.prepare("select status, failureCode, providerCancel from payment_attempts where id = ?").bind(attemptId).first();
    expect(await providerCancel(retry.id)).toEqual({ status: "canceled", failureCode: "superseded_by_resubmission", providerCancel: "due" });

    gc.otherFaults.push("down");
    expect(kinds(await run(E + 2 * DAY + 2 * HOUR))).toEqual({ cancel: { due: 1, done: 0, skipped: 0, failed: 1 } });
    expect(await providerCancel(retry.id)).toMatchObject({ providerCancel: "due" });
    expect(kinds(await run(E + 2 * DAY + 3 * HOUR))).toEqual({ cancel: { due: 1, done: 1, skipped: 0, failed: 0 } });
    expect(await providerCancel(retry.id)).toMatchObject({ providerCancel: "cancelled" });
    expect(gc.payments.get(retry.providerPaymentId)!.payments.status).toBe("cancelled");
    expect(gc.sent.filter((request) => request.url.endsWith("/actions/cancel")).map((request) => [request.method, request.url])).toEqual([
      ["POST", `/payments/${retry.providerPaymentId}/actions/cancel`],
      ["POST", `/payments/${retry.providerPaymentId}/actions/cancel`],
    ]);
    expect((await run(E + 2 * DAY + 4 * HOUR)).due).toBe(0);
  });

  it.each([
    ["still pending_submission: cancelled there", "pending_submission", "cancelled", "cancelled"],
    ["already submitted (422): its collection, when confirmed, is owed back", "submitted", "cancellation_failed", "submitted"],
  ] as const)("cancelled now while its renewal is processing at GoCardless: the next run asks GoCardless to cancel the payment (%s)", async (_name, statusAtGoCardless, answer, statusAfter) => {
    const gc = goCardless();
    const id = await activeAtT0(eve);
    await run(E - 2 * DAY);
    const [renewal] = (await attempts(id)).filter((row) => row.periodStart === iso(E));
    expect(renewal).toMatchObject({ status: "processing", providerPaymentId: expect.any(String) });
    gc.payments.get(renewal!.providerPaymentId)!.payments.status = statusAtGoCardless;
    vi.setSystemTime(E - 2 * DAY + HOUR);
    expect((await api(`/api/billing/subscriptions/${id}/cancel`, { user: await signIn({ ...eve, ip: freshClientIp() }), json: { atPeriodEnd: false } })).status).toBe(200);
    const row = () => env.DB.prepare("select status, failureCode, providerCancel, refundDue from payment_attempts where id = ?").bind(renewal!.id).first();
    expect(await row()).toEqual({ status: "canceled", failureCode: "subscription_ended", providerCancel: "due", refundDue: 0 });

    expect(kinds(await run(E - 2 * DAY + 2 * HOUR))).toEqual({ cancel: { due: 1, done: 1, skipped: 0, failed: 0 } });
    expect(gc.sent.filter((request) => request.url.endsWith("/actions/cancel")).map((request) => [request.method, request.url])).toEqual([["POST", `/payments/${renewal!.providerPaymentId}/actions/cancel`]]);
    expect(await row()).toEqual({ status: "canceled", failureCode: "subscription_ended", providerCancel: answer, refundDue: 0 });
    expect(gc.payments.get(renewal!.providerPaymentId)!.payments.status).toBe(statusAfter);
    if (answer === "cancellation_failed") {
      await webhookAt(E - DAY, paymentConfirmed(renewal!.id, renewal!.providerPaymentId));
      expect(await row()).toMatchObject({ status: "succeeded", refundDue: 1 });
      expect(await refundsDue(id)).toEqual([renewal!.id]);
    }
    expect(await subscription(id)).toMatchObject({ status: "canceled" });
    expect((await run(E + HOUR)).due).toBe(0);
  });

  it("a set-aside payment GoCardless does not hold (404 resource_not_found on cancel): recorded once as cancellation_failed with GoCardless's error, never asked again", async () => {
    const gc = goCardless();
    const { id, period, first } = await renewalFailed();
    await run(E + 2 * DAY);
    const retry = (await period()).find((row) => row.attemptNumber === 2)!;
    await webhookAt(E + 2 * DAY + HOUR, paymentEvent("resubmission_requested", first!.id, first!.providerPaymentId));
    // Not in this GoCardless account (e.g. created under another access token).
    gc.payments.delete(retry.providerPaymentId);
    const error = vi.spyOn(console, "error").mockImplementation(() => {});
    expect(kinds(await run(E + 2 * DAY + 2 * HOUR))).toEqual({ cancel: { due: 1, done: 0, skipped: 0, failed: 1 } });
    expect(error).toHaveBeenCalledWith(expect.stringContaining(`cancel ${retry.providerPaymentId}: resource_not_found`));
    expect(await env.DB.prepare("select status, failureCode, failureMessage, providerCancel from payment_attempts where id = ?").bind(retry.id).first()).toEqual({
      status: "canceled",
      failureCode: "superseded_by_resubmission",
      failureMessage: "cancel: resource_not_found: Resource not found",
      providerCancel: "cancellation_failed",
    });
    expect((await run(E + 2 * DAY + 3 * HOUR)).due).toBe(0);
    expect(gc.sent.filter((request) => request.url.endsWith("/actions/cancel"))).toHaveLength(1);
  });

  it.each([
    ["still pending_submission: cancelled there", "pending_submission", { status: "canceled", providerCancel: "cancelled" }, "cancelled"],
    ["already confirmed: its collection is recorded on the attempt", "confirmed", { status: "succeeded", providerCancel: "cancellation_failed" }, "confirmed"],
  ] as const)("a lost POST answer, then the attempt set aside before its payment id was known: the engine finds the payment GoCardless created (%s)", async (_name, statusAtGoCardless, expected, statusAfter) => {
    const gc = goCardless();
    const { id, period, first } = await renewalFailed();
    gc.faults.push("lose-answer");
    await run(E + 2 * DAY);
    const retry = (await period()).find((row) => row.attemptNumber === 2)!;
    expect(retry).toMatchObject({ status: "pending", providerPaymentId: null, failureCode: "network_error" });
    const created = gc.paymentIdOf(retry.id)!;
    gc.payments.get(created)!.payments.status = statusAtGoCardless;
    // GoCardless resubmits the first payment itself: our retry is set aside, its payment id unknown.
    await webhookAt(E + 2 * DAY + 5 * MINUTE, paymentEvent("resubmission_requested", first!.id, first!.providerPaymentId));
    const row = () => env.DB.prepare("select status, providerPaymentId, providerCancel from payment_attempts where id = ?").bind(retry.id).first();
    expect(await row()).toMatchObject({ status: "canceled", providerPaymentId: null });

    expect(kinds(await run(E + 2 * DAY + HOUR))).toMatchObject({ cancel: { due: 1, done: 1, failed: 0 } });
    expect(await row()).toEqual({ ...expected, providerPaymentId: created });
    expect(gc.payments.get(created)!.payments.status).toBe(statusAfter);
    expect(gc.sent.filter((request) => request.method === "GET" && request.url.startsWith("/payments?"))).toEqual([expect.objectContaining({ url: `/payments?mandate=${eveMandate}&limit=500` })]);
    // Asked once: later runs never ask about it again (a confirmed retry pays the period, so the
    // first payment's resubmission is set aside in turn and cancelled there).
    await run(E + 2 * DAY + 2 * HOUR);
    expect(await row()).toEqual({ ...expected, providerPaymentId: created });
    expect(gc.sent.filter((request) => request.url === `/payments/${created}/actions/cancel`)).toHaveLength(1);
    expect(gc.payments.size).toBe(2);
  });

  it("two overlapping runs with a set-aside payment due: GoCardless cancels it, and the answer recorded is `cancelled` whichever run writes first", async () => {
    const gc = goCardless();
    const { id, period, first } = await renewalFailed();
    await run(E + 2 * DAY);
    const retry = (await period()).find((row) => row.attemptNumber === 2)!;
    await webhookAt(E + 2 * DAY + HOUR, paymentEvent("resubmission_requested", first!.id, first!.providerPaymentId));
    await Promise.all([fire(E + 2 * DAY + 2 * HOUR), fire(E + 2 * DAY + 2 * HOUR)]);
    expect(await env.DB.prepare("select providerCancel from payment_attempts where id = ?").bind(retry.id).first("providerCancel")).toBe("cancelled");
    expect(gc.payments.get(retry.providerPaymentId)!.payments.status).toBe("cancelled");
    const cancels = logged.map((line) => JSON.parse(line).byKind.cancel).filter(Boolean);
    expect(cancels.reduce((sum, counts) => sum + counts.done, 0)).toBe(1);
  });

  it("an attempt set aside while its POST was in flight: the payment GoCardless created is kept on it and cancelled there by the next run", async () => {
    const gc = goCardless();
    const id = await activeAtT0(eve);
    gc.faults.push("set-aside-meanwhile");
    await run(E - 2 * DAY);
    const [attempt] = (await attempts(id)).filter((row) => row.periodStart === iso(E));
    const payment = gc.paymentIdOf(attempt!.id)!;
    const row = () => env.DB.prepare("select status, providerPaymentId, providerCancel from payment_attempts where id = ?").bind(attempt!.id).first();
    expect(await row()).toEqual({ status: "canceled", providerPaymentId: payment, providerCancel: "due" });
    expect(kinds(await run(E - 2 * DAY + 15 * MINUTE))).toMatchObject({ cancel: { due: 1, done: 1 } });
    expect(await row()).toEqual({ status: "canceled", providerPaymentId: payment, providerCancel: "cancelled" });
    expect(gc.payments.get(payment)!.payments.status).toBe("cancelled");
  });

  it("a set-aside retry GoCardless already submitted (422 cancellation_failed) is recorded so; when it is collected after all, the money is recorded on it", async () => {
    const gc = goCardless();
    const { id, period, first } = await renewalFailed();
    await run(E + 2 * DAY);
    const retry = (await period()).find((row) => row.attemptNumber === 2)!;
    gc.payments.get(retry.providerPaymentId)!.payments.status = "submitted";
    await webhookAt(E + 2 * DAY + HOUR, paymentEvent("resubmission_requested", first!.id, first!.providerPaymentId));
    expect(kinds(await run(E + 2 * DAY + 2 * HOUR))).toEqual({ cancel: { due: 1, done: 1, skipped: 0, failed: 0 } });
    expect(await env.DB.prepare("select providerCancel from payment_attempts where id = ?").bind(retry.id).first("providerCancel")).toBe("cancellation_failed");
    expect((await run(E + 2 * DAY + 3 * HOUR)).due).toBe(0);
    // Both are collected: the first pays the period, the retry's money is owed back.
    await webhookAt(E + 4 * DAY, paymentEvent("confirmed", first!.id, first!.providerPaymentId));
    await webhookAt(E + 4 * DAY + HOUR, paymentEvent("confirmed", retry.id, retry.providerPaymentId));
    const refund = await env.DB.prepare("select status, refundDue from payment_attempts where id = ?").bind(retry.id).first();
    expect(refund).toEqual({ status: "succeeded", refundDue: 1 });
  });

  it("a GoCardless that takes 10 s per call: the run stops starting calls at its deadline, reports the rest as skipped, and the next run takes them", async () => {
    goCardless();
    const slow = globalThis.fetch;
    // Every GoCardless call takes the client's whole timeout (the fake clock moves 10 s), then fails.
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
      if (!String(input).startsWith(BASE)) return slow(input, init);
      vi.setSystemTime(Date.now() + 10_000);
      throw new TypeError("The operation was aborted due to timeout");
    });
    const plansRows = Array.from({ length: 40 }, () => planRow({ amountMinor: 700, currency: "GBP" }));
    await env.DB.batch(plansRows.map((row) => env.DB.prepare("insert into subscription_plans (id, code, name, description, amountMinor, currency, interval, intervalCount, trialDays, active, createdBy, createdAt, updatedAt) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)").bind(row.id, row.code, row.name, row.description, row.amountMinor, row.currency, row.interval, row.intervalCount, row.trialDays, row.active, row.createdBy, row.createdAt, row.updatedAt)));
    const rows = plansRows.map((row) => subscriptionRow(eve.id, row.id, { status: "active", provider: "gocardless", currentPeriodStart: iso(T0), currentPeriodEnd: iso(E), createdAt: iso(T0), updatedAt: iso(T0) }));
    await env.DB.batch(rows.map((row) => env.DB.prepare("insert into user_subscriptions (id, userId, planId, status, currentPeriodStart, currentPeriodEnd, billingCycleAnchor, trialEndsAt, cancelAtPeriodEnd, canceledAt, endedAt, provider, providerSubscriptionId, createdAt, updatedAt) values (?, ?, ?, ?, ?, ?, ?, null, 0, null, null, ?, null, ?, ?)").bind(row.id, row.userId, row.planId, row.status, row.currentPeriodStart, row.currentPeriodEnd, row.currentPeriodStart, row.provider, row.createdAt, row.updatedAt)));

    const start = E - 2 * DAY;
    const first = await run(start, { BILLING_ENGINE_CHUNK: "40" });
    // 5 minutes of 10-second calls: 30 attempts tried (one GET /mandates each), 10 left for the next run.
    expect(first).toMatchObject({ deadline: "reached", byKind: { renewal: { done: 40 }, submit: { due: 40, done: 0, failed: 30, skipped: 10 } } });
    expect(Date.now() - start).toBeLessThanOrEqual(5 * MINUTE + 40_000);
    const untried = await env.DB.prepare("select count(*) as n from payment_attempts where periodStart = ? and status = 'pending' and failureCode is null").bind(iso(E)).first("n");
    expect(untried).toBe(10);
    const second = await run(start + 15 * MINUTE - 1, { BILLING_ENGINE_CHUNK: "40" });
    expect(second.byKind.submit).toEqual({ due: 10, done: 0, failed: 10, skipped: 0 });
    expect(second.deadline).toBeUndefined();
  });

  const attemptRow = (attemptId: string) => env.DB.prepare("select status, failureCode, providerPaymentId, providerCancel from payment_attempts where id = ?").bind(attemptId).first();

  it.each([
    ["its payment failed, then the subscription cancelled now", false],
    ["the subscription cancelled now, GoCardless refusing the cancel (submitted), then the payment failed", true],
  ])("GoCardless resubmits a payment of a subscription cancelled now (%s): set aside, and the next run asks GoCardless to cancel it (issue 11 break-it)", async (_name, cancelledFirst) => {
    const gc = goCardless();
    const id = await activeAtT0(eve);
    await run(E - 2 * DAY);
    const [renewal] = (await attempts(id)).filter((row) => row.periodStart === iso(E));
    const payment = gc.payments.get(renewal!.providerPaymentId)!.payments;
    const cancelNow = async (at: number) => {
      vi.setSystemTime(at);
      expect((await api(`/api/billing/subscriptions/${id}/cancel`, { user: await signIn({ ...eve, ip: freshClientIp() }), json: { atPeriodEnd: false } })).status).toBe(200);
    };
    if (cancelledFirst) {
      payment.status = "submitted";
      await cancelNow(E - 2 * DAY + HOUR);
      expect(kinds(await run(E - 2 * DAY + 2 * HOUR))).toMatchObject({ cancel: { due: 1, done: 1 } });
      expect(await attemptRow(renewal!.id)).toMatchObject({ status: "canceled", providerCancel: "cancellation_failed" });
    }
    payment.status = "failed";
    await webhookAt(E + HOUR, paymentEvent("failed", renewal!.id, renewal!.providerPaymentId, "insufficient_funds"));
    if (!cancelledFirst) await cancelNow(E + 2 * HOUR);
    payment.status = "pending_submission";
    await webhookAt(E + 3 * HOUR, paymentEvent("resubmission_requested", renewal!.id, renewal!.providerPaymentId));
    expect(await attemptRow(renewal!.id)).toEqual({ status: "canceled", failureCode: "subscription_ended", providerPaymentId: renewal!.providerPaymentId, providerCancel: "due" });

    expect(kinds(await run(E + 4 * HOUR))).toEqual({ cancel: { due: 1, done: 1, skipped: 0, failed: 0 } });
    expect(gc.sent.filter((request) => request.url === `/payments/${renewal!.providerPaymentId}/actions/cancel`)).toHaveLength(cancelledFirst ? 2 : 1);
    expect(await attemptRow(renewal!.id)).toMatchObject({ status: "canceled", providerCancel: "cancelled" });
    expect(payment.status).toBe("cancelled");
    expect(await subscription(id)).toMatchObject({ status: "canceled" });
    expect(await refundsDue(id)).toEqual([]);
  });

  it("a paid renewal, the subscription cancelled now, then GoCardless resubmits that payment (its late failure not arrived yet): set aside, and the next run asks GoCardless to cancel it (issue 11 break-it)", async () => {
    const gc = goCardless();
    const id = await activeAtT0(eve);
    await run(E - 2 * DAY);
    const [renewal] = (await attempts(id)).filter((row) => row.periodStart === iso(E));
    await webhookAt(E - DAY, paymentConfirmed(renewal!.id, renewal!.providerPaymentId));
    vi.setSystemTime(E + HOUR);
    expect((await api(`/api/billing/subscriptions/${id}/cancel`, { user: await signIn({ ...eve, ip: freshClientIp() }), json: { atPeriodEnd: false } })).status).toBe(200);
    await webhookAt(E + 2 * HOUR, paymentEvent("resubmission_requested", renewal!.id, renewal!.providerPaymentId));
    const row = () => env.DB.prepare("select status, failureCode, providerCancel from payment_attempts where id = ?").bind(renewal!.id).first();
    expect(await row()).toEqual({ status: "canceled", failureCode: "subscription_ended", providerCancel: "due" });

    expect(kinds(await run(E + 3 * HOUR))).toMatchObject({ cancel: { due: 1, done: 1 } });
    expect(gc.sent.filter((request) => request.url.endsWith("/actions/cancel")).map((request) => request.url)).toEqual([`/payments/${renewal!.providerPaymentId}/actions/cancel`]);
    expect(await row()).toEqual({ status: "canceled", failureCode: "subscription_ended", providerCancel: "cancelled" });
  });

  it("a payment started but not sent yet, then the subscription cancelled now: the cancel ends it canceled (subscription_ended) and the engine sends nothing (issue 11 break-it)", async () => {
    const gc = goCardless();
    vi.setSystemTime(T0);
    const id = await subscribe(eve, await plan());
    const pending = await startPayment(eve, id);
    expect((await api(`/api/billing/subscriptions/${id}/cancel`, { user: eve, json: { atPeriodEnd: false } })).body.subscription).toMatchObject({ status: "canceled" });
    expect(await attemptRow(pending.id)).toEqual({ status: "canceled", failureCode: "subscription_ended", providerPaymentId: null, providerCancel: null });
    expect((await run(T0 + MINUTE)).due).toBe(0);
    expect([...gc.sent, ...gc.lookups]).toEqual([]);
  });

  it("cancelled now while its first payment's POST is in flight: the payment GoCardless answers with is kept on the set-aside attempt and cancelled there (issue 11 break-it)", async () => {
    const gc = goCardless();
    vi.setSystemTime(T0);
    const id = await subscribe(eve, await plan());
    const pending = await startPayment(eve, id);
    gc.meanwhile.push(() => api(`/api/billing/subscriptions/${id}/cancel`, { user: eve, json: { atPeriodEnd: false } }));
    expect(kinds(await run(T0 + MINUTE))).toEqual({ submit: { due: 1, done: 1, skipped: 0, failed: 0 } });
    const created = gc.paymentIdOf(pending.id)!;
    expect(await subscription(id)).toMatchObject({ status: "canceled" });
    expect(await attemptRow(pending.id)).toEqual({ status: "canceled", failureCode: "subscription_ended", providerPaymentId: created, providerCancel: "due" });
    expect(kinds(await run(T0 + 16 * MINUTE))).toEqual({ cancel: { due: 1, done: 1, skipped: 0, failed: 0 } });
    expect(await attemptRow(pending.id)).toEqual({ status: "canceled", failureCode: "subscription_ended", providerPaymentId: created, providerCancel: "cancelled" });
    expect(gc.sent.filter((request) => request.method === "POST").map((request) => request.url)).toEqual(["/payments", `/payments/${created}/actions/cancel`]);
  });

  it("a send whose answer was lost, then the subscription cancelled now: not sent again; the payment GoCardless created is found and cancelled there", async () => {
    const gc = goCardless();
    vi.setSystemTime(T0);
    const id = await subscribe(eve, await plan());
    const pending = await startPayment(eve, id);
    gc.faults.push("lose-answer");
    await run(T0 + MINUTE);
    const created = gc.paymentIdOf(pending.id)!;
    vi.setSystemTime(T0 + 2 * MINUTE);
    expect((await api(`/api/billing/subscriptions/${id}/cancel`, { user: eve, json: { atPeriodEnd: false } })).status).toBe(200);
    expect(await attemptRow(pending.id)).toEqual({ status: "canceled", failureCode: "subscription_ended", providerPaymentId: null, providerCancel: "due" });
    expect(kinds(await run(T0 + 16 * MINUTE))).toEqual({ cancel: { due: 1, done: 1, skipped: 0, failed: 0 } });
    expect(await attemptRow(pending.id)).toEqual({ status: "canceled", failureCode: "subscription_ended", providerPaymentId: created, providerCancel: "cancelled" });
    expect(gc.payments.get(created)!.payments.status).toBe("cancelled");
    expect(gc.sent.filter((request) => request.method === "POST" && request.url === "/payments")).toHaveLength(1);
  });

  /** Eve's subscription active at T0, its renewal for the next period sent at E−2d, then set to cancel at the period's end at E−1d. */
  /** Resumed at E−1d+20min, the set-aside renewal stays set aside (with `also`), and the next run collects the period anew with attempt 2. */
  async function resumedStaysSetAside(id: string, renewalId: string, also: Record<string, unknown> = {}) {
    vi.setSystemTime(E - DAY + 20 * MINUTE);
    expect((await api(`/api/billing/subscriptions/${id}/resume`, { user: await signIn({ ...eve, ip: freshClientIp() }), method: "POST" })).status).toBe(200);
    expect(await attemptRow(renewalId)).toMatchObject({ status: "canceled", failureCode: "subscription_ended", ...also });
    await run(E - DAY + 30 * MINUTE);
    const again = (await attempts(id)).filter((row) => row.periodStart === iso(E) && row.id !== renewalId);
    expect(again).toEqual([expect.objectContaining({ status: "processing", attemptNumber: 2 })]);
  }

  async function renewalSentThenCancelAtPeriodEnd(gc: ReturnType<typeof goCardless>) {
    const id = await activeAtT0(eve);
    await run(E - 2 * DAY);
    const [renewal] = (await attempts(id)).filter((row) => row.periodStart === iso(E));
    const paymentId = gc.paymentIdOf(renewal!.id)!;
    vi.setSystemTime(E - DAY);
    expect((await api(`/api/billing/subscriptions/${id}/cancel`, { user: await signIn({ ...eve, ip: freshClientIp() }), json: { atPeriodEnd: true } })).status).toBe(200);
    expect(await attemptRow(renewal!.id)).toEqual({ status: "canceled", failureCode: "subscription_ended", providerPaymentId: paymentId, providerCancel: "due" });
    return { id, renewal: renewal!, paymentId };
  }

  it("cancel at the period's end after the next period's renewal was sent: set aside at once, cancelled at GoCardless, and the period ends canceled; resumed before its cancel was sent, that renewal is the period's collection again (issue 11)", async () => {
    const gc = goCardless();
    const { id, paymentId } = await renewalSentThenCancelAtPeriodEnd(gc);
    await run(E + HOUR);
    await run(E + 2 * HOUR);
    expect(await subscription(id)).toMatchObject({ status: "canceled", currentPeriodEnd: iso(E) });
    expect(gc.payments.get(paymentId)!.payments.status).toBe("cancelled");
    expect(gc.sent.filter((request) => request.method === "POST").map((request) => request.url)).toEqual(["/payments", `/payments/${paymentId}/actions/cancel`]);
    expect(await refundsDue(id)).toEqual([]);

    const { id: resumed, renewal } = await renewalSentThenCancelAtPeriodEnd(gc);
    vi.setSystemTime(E - DAY + MINUTE);
    expect((await api(`/api/billing/subscriptions/${resumed}/resume`, { user: await signIn({ ...eve, ip: freshClientIp() }), method: "POST" })).status).toBe(200);
    await run(E - DAY + 15 * MINUTE);
    const open = (await attempts(resumed)).filter((row) => row.periodStart === iso(E) && row.status === "processing");
    expect(open).toEqual([expect.objectContaining({ id: renewal.id, providerPaymentId: gc.paymentIdOf(renewal.id) })]);
    expect(await attemptRow(renewal.id)).toMatchObject({ failureCode: null, providerCancel: null });
  });

  it("cancel at the period's end, then GoCardless confirms the set-aside renewal before the period ends: owed back, and the subscription ends canceled at the period's end, not a month later (issue 11)", async () => {
    const gc = goCardless();
    const { id, renewal, paymentId } = await renewalSentThenCancelAtPeriodEnd(gc);
    await webhookAt(E - DAY + MINUTE, paymentConfirmed(renewal.id, paymentId));
    expect(await refundsDue(id)).toEqual([renewal.id]);
    // Collected, it can no longer be cancelled: nothing is due at GoCardless (break-it 2, C).
    expect(await attemptRow(renewal.id)).toMatchObject({ status: "succeeded", providerCancel: null });
    expect(await subscription(id)).toMatchObject({ status: "active", currentPeriodEnd: iso(E), cancelAtPeriodEnd: 1 });
    await run(E + HOUR);
    expect(await subscription(id)).toMatchObject({ status: "canceled", currentPeriodEnd: iso(E) });
    expect(await refundsDue(id)).toEqual([renewal.id]);
    expect(gc.sent.filter((request) => request.url.endsWith("/actions/cancel"))).toEqual([]);
    expect(await attemptRow(renewal.id)).toMatchObject({ providerCancel: null });
  });

  it.each([
    ["its cancel not sent yet", false],
    ["GoCardless refusing its cancel (already submitted)", true],
  ])("cancel at the period's end, the renewal set aside (%s), then resumed: that payment is the period's collection again — no second payment is opened for the period, and its confirmation pays it (issue 11 break-it F1)", async (_name, cancelRefused) => {
    const gc = goCardless();
    const { id, renewal, paymentId } = await renewalSentThenCancelAtPeriodEnd(gc);
    // GoCardless submitted it to the bank: it can no longer be cancelled.
    gc.payments.get(paymentId)!.payments.status = "submitted";
    await webhookAt(E - DAY + MINUTE, paymentEvent("submitted", renewal.id, paymentId));
    if (cancelRefused) {
      await run(E - DAY + 15 * MINUTE);
      expect(await attemptRow(renewal.id)).toMatchObject({ status: "canceled", providerCancel: "cancellation_failed" });
    }
    vi.setSystemTime(E - DAY + 20 * MINUTE);
    expect((await api(`/api/billing/subscriptions/${id}/resume`, { user: await signIn({ ...eve, ip: freshClientIp() }), method: "POST" })).status).toBe(200);
    await run(E - DAY + 30 * MINUTE);
    await run(E - DAY + 45 * MINUTE);
    expect(gc.sent.filter((request) => request.method === "POST").map((request) => request.url)).toEqual(["/payments", ...(cancelRefused ? [`/payments/${paymentId}/actions/cancel`] : [])]);
    expect((await attempts(id)).filter((row) => row.periodStart === iso(E))).toEqual([expect.objectContaining({ id: renewal.id, status: "processing", providerPaymentId: paymentId })]);
    await webhookAt(E - HOUR, paymentConfirmed(renewal.id, paymentId));
    expect(await subscription(id)).toMatchObject({ status: "active", currentPeriodStart: iso(E), cancelAtPeriodEnd: 0 });
    expect(await refundsDue(id)).toEqual([]);
  });

  it("cancel at the period's end, then resumed while the engine's cancel of the set-aside renewal is in flight and GoCardless accepts it: the renewal ends set aside (cancelled there), its payments.cancelled webhook is no failure, and the engine collects the period anew (break-it F1)", async () => {
    const gc = goCardless();
    const { id, renewal, paymentId } = await renewalSentThenCancelAtPeriodEnd(gc);
    gc.meanwhileCancel.push(async () => {
      expect((await api(`/api/billing/subscriptions/${id}/resume`, { user: await signIn({ ...eve, ip: freshClientIp() }), method: "POST" })).status).toBe(200);
      expect(await attemptRow(renewal.id)).toMatchObject({ status: "processing", providerCancel: null });
    });
    await run(E - DAY + 15 * MINUTE);
    expect(gc.payments.get(paymentId)!.payments.status).toBe("cancelled");
    expect(await attemptRow(renewal.id)).toEqual({ status: "canceled", failureCode: "subscription_ended", providerPaymentId: paymentId, providerCancel: "cancelled" });
    await webhookAt(E - DAY + 20 * MINUTE, paymentEvent("cancelled", renewal.id, paymentId, "cancelled_by_merchant"));
    expect(await attemptRow(renewal.id)).toMatchObject({ status: "canceled", failureCode: "subscription_ended" });
    await run(E - DAY + 30 * MINUTE);
    const period = (await attempts(id)).filter((row) => row.periodStart === iso(E));
    expect(period.filter((row) => row.status === "failed")).toEqual([]);
    expect(period.filter((row) => row.id !== renewal.id)).toEqual([expect.objectContaining({ status: "processing", attemptNumber: 2 })]);
  });

  /** Resumes Eve's subscription at `at`. */
  async function resumeAt(id: string, at: number) {
    vi.setSystemTime(at);
    expect((await api(`/api/billing/subscriptions/${id}/resume`, { user: await signIn({ ...eve, ip: freshClientIp() }), method: "POST" })).status).toBe(200);
  }

  /** Eve's subscription active at T0, its renewal's send at E−2d losing its answer (GoCardless created the payment), then set to cancel at the period's end. */
  async function lostRenewalThenCancelAtPeriodEnd(gc: ReturnType<typeof goCardless>) {
    const { id, renewal } = await unansweredRenewalThenCancelAtPeriodEnd(gc, "lose-answer");
    return { id, renewal, paymentId: gc.paymentIdOf(renewal.id)! };
  }

  /**
   * Eve's subscription active at T0, its renewal's send at E−2d left without an answer (`lose-answer`: GoCardless
   * created the payment; `down`: it did not), then set to cancel at the period's end: set aside, GoCardless to be asked.
   */
  async function unansweredRenewalThenCancelAtPeriodEnd(gc: ReturnType<typeof goCardless>, fault: "lose-answer" | "down") {
    const id = await activeAtT0(eve);
    gc.faults.push(fault);
    await run(E - 2 * DAY);
    const [renewal] = (await attempts(id)).filter((row) => row.periodStart === iso(E));
    vi.setSystemTime(E - 2 * DAY + 5 * MINUTE);
    expect((await api(`/api/billing/subscriptions/${id}/cancel`, { user: await signIn({ ...eve, ip: freshClientIp() }), json: { atPeriodEnd: true } })).status).toBe(200);
    // Sent once before (no answer): it may be held at GoCardless.
    expect(await attemptRow(renewal!.id)).toEqual({ status: "canceled", failureCode: "subscription_ended", providerPaymentId: null, providerCancel: "due" });
    return { id, renewal: renewal! };
  }

  it("cancel at the period's end after the renewal's send lost its answer, then resumed before the engine looked its payment up: the same attempt is open again, and its next send (the same Idempotency-Key) gets the payment GoCardless holds — never a second one; its confirmation pays the period (issue 11 A)", async () => {
    const gc = goCardless();
    const { id, renewal, paymentId } = await lostRenewalThenCancelAtPeriodEnd(gc);
    await resumeAt(id, E - 2 * DAY + 10 * MINUTE);
    expect(await attemptRow(renewal.id)).toEqual({ status: "pending", failureCode: null, providerPaymentId: null, providerCancel: null });
    expect(kinds(await run(E - 2 * DAY + 30 * MINUTE))).toEqual({ submit: { due: 1, done: 1, skipped: 0, failed: 0 } });
    expect(await attemptRow(renewal.id)).toMatchObject({ status: "processing", providerPaymentId: paymentId });
    expect(gc.sent.filter((request) => request.method === "POST" && request.url === "/payments").map((request) => request.idempotencyKey)).toEqual([renewal.id, renewal.id]);
    expect([...gc.payments.values()].filter((payment) => payment.payments.metadata.payment_attempt_id === renewal.id)).toHaveLength(1);
    await webhookAt(E - HOUR, paymentConfirmed(renewal.id, paymentId));
    expect(await subscription(id)).toMatchObject({ status: "active", currentPeriodStart: iso(E), cancelAtPeriodEnd: 0 });
  });

  it("cancel at the period's end after the renewal's send lost its answer, then resumed while the engine's cancel of the payment it found is in flight and GoCardless accepts it: the renewal ends set aside again (cancelled there) — no failure, nothing sent again — and the engine collects the period anew (issue 11 A)", async () => {
    const gc = goCardless();
    const { id, renewal, paymentId } = await lostRenewalThenCancelAtPeriodEnd(gc);
    gc.meanwhileCancel.push(async () => {
      await resumeAt(id, E - 2 * DAY + 30 * MINUTE);
      expect(await attemptRow(renewal.id)).toMatchObject({ status: "pending", providerCancel: null });
    });
    await run(E - 2 * DAY + 30 * MINUTE);
    expect(gc.payments.get(paymentId)!.payments.status).toBe("cancelled");
    expect(await attemptRow(renewal.id)).toEqual({ status: "canceled", failureCode: "subscription_ended", providerPaymentId: paymentId, providerCancel: "cancelled" });
    await webhookAt(E - 2 * DAY + 35 * MINUTE, paymentEvent("cancelled", renewal.id, paymentId, "cancelled_by_merchant"));
    await run(E - 2 * DAY + 45 * MINUTE);
    const period = (await attempts(id)).filter((row) => row.periodStart === iso(E));
    expect(period.filter((row) => row.status === "failed")).toEqual([]);
    expect(period.filter((row) => row.id !== renewal.id)).toEqual([expect.objectContaining({ status: "processing", attemptNumber: 2 })]);
    expect(gc.sent.filter((request) => request.method === "POST" && request.url === "/payments").map((request) => request.idempotencyKey)).toEqual([renewal.id, period.find((row) => row.attemptNumber === 2)!.id]);
  });

  it("cancel at the period's end, GoCardless answering 404 to the set-aside renewal's cancel (it holds no such payment), then resumed: it stays set aside (not processing forever) and the engine collects the period anew (break-it F2)", async () => {
    const gc = goCardless();
    const { id, renewal, paymentId } = await renewalSentThenCancelAtPeriodEnd(gc);
    // Not in this GoCardless account (kept under another key only so the fake's next payment id stays unique).
    gc.payments.set("elsewhere", gc.payments.get(paymentId)!);
    gc.payments.delete(paymentId);
    vi.spyOn(console, "error").mockImplementation(() => {});
    expect(kinds(await run(E - DAY + 15 * MINUTE))).toEqual({ cancel: { due: 1, done: 0, skipped: 0, failed: 1 } });
    expect(await attemptRow(renewal.id)).toMatchObject({ status: "canceled", providerCancel: "cancellation_failed" });
    await resumedStaysSetAside(id, renewal.id, { providerCancel: "cancellation_failed" });
  });

  it("cancel at the period's end, the set-aside renewal then failed at GoCardless, then resumed: it stays set aside (not left open forever) and the engine collects the period anew", async () => {
    const gc = goCardless();
    const { id, renewal, paymentId } = await renewalSentThenCancelAtPeriodEnd(gc);
    gc.payments.get(paymentId)!.payments.status = "failed";
    await webhookAt(E - DAY + MINUTE, paymentEvent("failed", renewal.id, paymentId, "insufficient_funds"));
    await resumedStaysSetAside(id, renewal.id);
  });

  it("cancel at the period's end, the set-aside renewal collected anyway (owed back), then resumed: that money pays its period — no longer owed back, the period moves on, nothing is collected again and the subscription stays active (issue 11 break-it F6)", async () => {
    const gc = goCardless();
    const { id, renewal, paymentId } = await renewalSentThenCancelAtPeriodEnd(gc);
    await webhookAt(E - DAY + MINUTE, paymentConfirmed(renewal.id, paymentId));
    expect(await refundsDue(id)).toEqual([renewal.id]);
    vi.setSystemTime(E - DAY + 20 * MINUTE);
    expect((await api(`/api/billing/subscriptions/${id}/resume`, { user: await signIn({ ...eve, ip: freshClientIp() }), method: "POST" })).status).toBe(200);
    expect(await refundsDue(id)).toEqual([]);
    expect(await subscription(id)).toMatchObject({ status: "active", currentPeriodStart: iso(E), cancelAtPeriodEnd: 0 });
    await run(E + HOUR);
    await run(E + 12 * DAY);
    expect(await subscription(id)).toMatchObject({ status: "active", currentPeriodStart: iso(E) });
    expect(gc.sent.filter((request) => request.method === "POST" && request.url === "/payments")).toHaveLength(1);
  });

  it.each([
    ["resumed: a new renewal is sent then", true],
    ["not resumed: the period ends, the subscription is canceled and nothing is sent", false],
  ])("a renewal not sent yet (its send failed) when the subscription is set to cancel at the period's end is set aside at once; GoCardless is asked whether it holds it — %s", async (_name, resume) => {
    const gc = goCardless();
    const { id, renewal } = await unansweredRenewalThenCancelAtPeriodEnd(gc, "down");
    expect(kinds(await run(E - 2 * DAY + 30 * MINUTE))).toEqual({ cancel: { due: 1, done: 1, skipped: 0, failed: 0 } });
    expect(await attemptRow(renewal.id)).toMatchObject({ providerCancel: null });
    if (resume) {
      vi.setSystemTime(E - 2 * DAY + 35 * MINUTE);
      expect((await api(`/api/billing/subscriptions/${id}/resume`, { user: await signIn({ ...eve, ip: freshClientIp() }), method: "POST" })).status).toBe(200);
      expect(kinds(await run(E - 2 * DAY + 45 * MINUTE))).toEqual({ renewal: { due: 1, done: 1, skipped: 0, failed: 0 }, submit: { due: 1, done: 1, skipped: 0, failed: 0 } });
      const [again] = (await attempts(id)).filter((row) => row.periodStart === iso(E) && row.id !== renewal.id);
      expect(again).toMatchObject({ status: "processing", attemptNumber: 2, providerPaymentId: gc.paymentIdOf(again!.id) });
      return;
    }
    expect(kinds(await run(E + MINUTE))).toEqual({ cancel_at_period_end: { due: 1, done: 1, skipped: 0, failed: 0 } });
    expect(await subscription(id)).toMatchObject({ status: "canceled" });
    expect(gc.sent.filter((request) => request.method === "POST")).toHaveLength(1);
  });

  it("a renewal that failed, the subscription set to cancel at the period's end, then GoCardless resubmits it: when the engine ends the subscription at the period's end it sets the payment aside in the same batch and asks GoCardless to cancel it (issue 11)", async () => {
    const gc = goCardless();
    const id = await activeAtT0(eve);
    await run(E - 3 * DAY);
    const [renewal] = (await attempts(id)).filter((row) => row.periodStart === iso(E));
    await webhookAt(E - 3 * DAY + HOUR, paymentEvent("failed", renewal!.id, renewal!.providerPaymentId, "insufficient_funds"));
    vi.setSystemTime(E - 3 * DAY + 2 * HOUR);
    expect((await api(`/api/billing/subscriptions/${id}/cancel`, { user: await signIn({ ...eve, ip: freshClientIp() }), json: { atPeriodEnd: true } })).status).toBe(200);
    // GoCardless collects the failed payment again itself: in flight once more, for the period that will not come.
    gc.payments.get(renewal!.providerPaymentId)!.payments.status = "pending_submission";
    await webhookAt(E - 3 * DAY + 3 * HOUR, paymentEvent("resubmission_requested", renewal!.id, renewal!.providerPaymentId));
    expect(kinds(await run(E + HOUR))).toEqual({ cancel_at_period_end: { due: 1, done: 1, skipped: 0, failed: 0 }, cancel: { due: 1, done: 1, skipped: 0, failed: 0 } });
    expect(await subscription(id)).toMatchObject({ status: "canceled", endedAt: iso(E) });
    expect(await attemptRow(renewal!.id)).toEqual({ status: "canceled", failureCode: "subscription_ended", providerPaymentId: renewal!.providerPaymentId, providerCancel: "cancelled" });
    expect(gc.payments.get(renewal!.providerPaymentId)!.payments.status).toBe("cancelled");
    expect(await refundsDue(id)).toEqual([]);
  });

  it("a first payment that failed, the subscription expired at its incomplete deadline, then GoCardless resubmits the payment: set aside, and the next run asks GoCardless to cancel it (issue 11)", async () => {
    const gc = goCardless();
    vi.setSystemTime(T0);
    const id = await subscribe(eve, await plan());
    const first = await startPayment(eve, id);
    await run(T0 + MINUTE);
    const paymentId = gc.paymentIdOf(first.id)!;
    await webhookAt(T0 + DAY, paymentEvent("failed", first.id, paymentId, "insufficient_funds"));
    expect(kinds(await run(T0 + 8 * DAY))).toEqual({ incomplete_deadline: { due: 1, done: 1, skipped: 0, failed: 0 } });
    expect(await subscription(id)).toMatchObject({ status: "incomplete_expired" });
    gc.payments.get(paymentId)!.payments.status = "pending_submission";
    await webhookAt(T0 + 8 * DAY + HOUR, paymentEvent("resubmission_requested", first.id, paymentId));
    expect(await attemptRow(first.id)).toEqual({ status: "canceled", failureCode: "subscription_ended", providerPaymentId: paymentId, providerCancel: "due" });
    expect(kinds(await run(T0 + 8 * DAY + 2 * HOUR))).toEqual({ cancel: { due: 1, done: 1, skipped: 0, failed: 0 } });
    expect(gc.payments.get(paymentId)!.payments.status).toBe("cancelled");
  });

  it("a retry set aside while its slow POST is in flight, the answer lost: the lookup waits until the claim's lease ended, so the payment that lands late is found and cancelled (issue 11 break-it)", async () => {
    const gc = goCardless();
    const id = await activeAtT0(eve);
    await run(E - 2 * DAY);
    const firstRenewal = (await attempts(id)).find((row) => row.periodStart === iso(E))!;
    await webhookAt(E + HOUR, paymentEvent("failed", firstRenewal.id, firstRenewal.providerPaymentId, "insufficient_funds"));
    const claimedAt = E + 2 * DAY;
    // While the retry's POST is in flight GoCardless resubmits the first payment (the retry is
    // set aside); the POST's answer is lost, and the payment it creates lands only later.
    gc.meanwhile.push(() => webhookAt(claimedAt + 1500, paymentEvent("resubmission_requested", firstRenewal.id, firstRenewal.providerPaymentId)));
    gc.faults.push("down");
    await fire(claimedAt);
    const retry = (await attempts(id)).find((row) => row.periodStart === iso(E) && row.attemptNumber === 2)!;
    expect(await attemptRow(retry.id)).toEqual({ status: "canceled", failureCode: "superseded_by_resubmission", providerPaymentId: null, providerCancel: "due" });
    // One minute later (a run whose scheduledTime is 11 minutes on, as `?time=` gives): the lease still runs.
    await fire(claimedAt + 11 * MINUTE, {}, claimedAt + MINUTE);
    expect(await attemptRow(retry.id)).toMatchObject({ providerCancel: "due" });
    const late = createdPaymentBody(retry.id, "PM0LATEENGINE");
    late.payments.links.mandate = eveMandate;
    gc.payments.set("PM0LATEENGINE", late);
    expect(kinds(await run(claimedAt + 15 * MINUTE))).toMatchObject({ cancel: { due: 1, done: 1, failed: 0 } });
    expect(await attemptRow(retry.id)).toEqual({ status: "canceled", failureCode: "superseded_by_resubmission", providerPaymentId: "PM0LATEENGINE", providerCancel: "cancelled" });
    expect(gc.payments.get("PM0LATEENGINE")!.payments.status).toBe("cancelled");
  });

  it("a renewal set aside by cancel-at-period-end and resumed four times, then failing: its first failure, retried a day later, then 3 days — set-aside attempts are no failures, and each new one is a renewal (break-it F3)", async () => {
    goCardless();
    const id = await activeAtT0(eve);
    await run(E - 2 * DAY);
    let t = E - 2 * DAY + HOUR;
    vi.setSystemTime(t);
    const user = await signIn({ ...eve, ip: freshClientIp() });
    const call = async (path: string, init: object) => {
      vi.setSystemTime((t += MINUTE));
      expect((await api(`/api/billing/subscriptions/${id}/${path}`, { user, ...init })).status).toBe(200);
    };
    for (let cycle = 0; cycle < 4; cycle++) {
      await call("cancel", { json: { atPeriodEnd: true } });
      // GoCardless cancels the set-aside renewal before the resume (else the resume reopens it, ¹¹).
      await run((t += 15 * MINUTE));
      await call("resume", { method: "POST" });
      expect(kinds(await run((t += 15 * MINUTE)))).toMatchObject({ renewal: { due: 1, done: 1 } });
    }
    const period = async () => (await attempts(id)).filter((row) => row.periodStart === iso(E)).map((row) => [row.attemptNumber, row.status, row.failureCode]);
    expect(await period()).toEqual([1, 2, 3, 4].map((n): unknown[] => [n, "canceled", "subscription_ended"]).concat([[5, "processing", null]]));
    const fifth = (await attempts(id)).at(-1)!;
    await webhookAt(E - DAY, paymentEvent("failed", fifth.id, fifth.providerPaymentId, "insufficient_funds"));
    expect((await attempts(id)).at(-1)).toMatchObject({ status: "failed", nextRetryAt: iso(E) });
    expect(kinds(await run(E + HOUR))).toMatchObject({ retry: { done: 1 }, period_end: { done: 1 } });
    expect(await subscription(id)).toMatchObject({ status: "past_due" });
    const sixth = (await attempts(id)).at(-1)!;
    expect(sixth).toMatchObject({ attemptNumber: 6, status: "processing" });
    await webhookAt(E + 2 * HOUR, paymentEvent("failed", sixth.id, sixth.providerPaymentId, "insufficient_funds"));
    expect((await attempts(id)).at(-1)).toMatchObject({ status: "failed", nextRetryAt: iso(E + 2 * HOUR + 3 * DAY) });
    expect(await subscription(id)).toMatchObject({ status: "past_due" });
  });

  it("a renewal GoCardless cancels (mandate_cancelled) while the default mandate is still active: the period stays owed and is collected again on the retry schedule; unpaid only after the 4th failure (break-it F7)", async () => {
    const gc = goCardless();
    const id = await activeAtT0(eve);
    await run(E - 2 * DAY);
    const renewalRow = (await attempts(id)).find((row) => row.periodStart === iso(E))!;
    await webhookAt(E - DAY, paymentEvent("cancelled", renewalRow.id, renewalRow.providerPaymentId, "mandate_cancelled"));
    expect((await attempts(id)).find((row) => row.id === renewalRow.id)).toMatchObject({ status: "failed", failureCode: "mandate_cancelled", nextRetryAt: iso(E) });
    expect(kinds(await run(E + HOUR))).toMatchObject({ retry: { due: 1, done: 1 }, period_end: { done: 1 }, submit: { done: 1 } });
    expect(await subscription(id)).toMatchObject({ status: "past_due" });
    // The schedule goes on from one failure: 3 and 7 days, then unpaid after the 4th.
    let failedAt = E + 2 * HOUR;
    for (const [number, delayDays] of [[2, 3], [3, 7]] as const) {
      const open = (await attempts(id)).find((row) => row.attemptNumber === number)!;
      expect(open).toMatchObject({ status: "processing" });
      await webhookAt(failedAt, paymentEvent("failed", open.id, open.providerPaymentId, "insufficient_funds"));
      expect((await attempts(id)).find((row) => row.id === open.id)).toMatchObject({ nextRetryAt: iso(failedAt + delayDays * DAY) });
      expect(kinds(await run(failedAt + delayDays * DAY + MINUTE))).toMatchObject({ retry: { done: 1 } });
      expect(await subscription(id)).toMatchObject({ status: "past_due" });
      failedAt += delayDays * DAY + HOUR;
    }
    const last = (await attempts(id)).find((row) => row.attemptNumber === 4)!;
    await webhookAt(failedAt, paymentEvent("failed", last.id, last.providerPaymentId, "insufficient_funds"));
    expect(await subscription(id)).toMatchObject({ status: "unpaid" });
    expect(gc.sent.filter((request) => request.url === "/payments")).toHaveLength(4);
  });

  it("a renewal GoCardless cancels with its mandate (mandates.cancelled): nothing is collected without a mandate, and once the user adds a new one the period owed is collected on it, not ended unpaid (break-it F7)", async () => {
    const gc = goCardless();
    vi.setSystemTime(T0);
    const fay = await signedInUser("fay-engine@example.com");
    const old = await addActiveToken(fay);
    const id = await activeAtT0(fay);
    await run(E - 2 * DAY);
    const renewal = (await attempts(id)).find((row) => row.periodStart === iso(E))!;
    await webhookAt(E - DAY, mandateEvent(old.mandateId, "cancelled"), paymentEvent("cancelled", renewal.id, renewal.providerPaymentId, "mandate_cancelled"));
    expect(kinds(await run(E + HOUR))).toEqual({ period_end: { due: 1, done: 1, skipped: 0, failed: 0 } });
    expect((await run(E + 2 * DAY)).due).toBe(0);
    vi.setSystemTime(E + 3 * DAY);
    const fresh = await addActiveToken(await signIn({ ...fay, ip: freshClientIp() }));
    expect(kinds(await run(E + 3 * DAY + 15 * MINUTE))).toMatchObject({ retry: { due: 1, done: 1 }, submit: { done: 1 } });
    const again = (await attempts(id)).at(-1)!;
    expect(again).toMatchObject({ attemptNumber: 2, status: "processing", periodStart: iso(E) });
    expect(gc.sent.filter((request) => request.url === "/payments").at(-1)!.body.payments.links.mandate).toBe(fresh.mandateId);
    await run(E + 12 * DAY);
    expect(await subscription(id)).toMatchObject({ status: "past_due" });
  });

  it.each([
    ["the payment's cancel", false],
    ["the mandate's cancel and the payment's (GoCardless cancels its pending payments with it)", true],
  ])("%s landing before the engine stored its POST's answer (GoCardless created the payment, then cancelled it) ends as in time order: one failure on the schedule, the period collected again (issue 11 B)", async (_name, withMandate) => {
    const gc = goCardless();
    vi.setSystemTime(T0);
    // Two users of their own (their mandates are cancelled): one sees the events early, the other in time order.
    const [ann, bob] = [await signedInUser(`ann-engine-${withMandate}@example.com`), await signedInUser(`bob-engine-${withMandate}@example.com`)];
    const mandates = new Map([[ann, (await addActiveToken(ann)).mandateId], [bob, (await addActiveToken(bob)).mandateId]]);
    const [early, inOrder] = [await activeAtT0(ann), await activeAtT0(bob)];
    const cancelAt = E - 2 * DAY + 1000;
    const cancelled = (user: TestUser, payment: { id: string; metadata: Record<string, string> }) => [
      ...(withMandate ? [mandateEvent(mandates.get(user)!, "cancelled")] : []),
      paymentEvent("cancelled", payment.metadata.payment_attempt_id!, payment.id, "mandate_cancelled"),
    ];
    const renewalOf = async (id: string) => (await attempts(id)).find((row) => row.periodStart === iso(E))!;
    gc.afterCreate.push(async (payment) => {
      if (payment.metadata.payment_attempt_id !== (await renewalOf(early)).id) return;
      payment.status = "cancelled";
      await webhookAt(cancelAt, ...cancelled(ann, payment));
    });
    await run(E - 2 * DAY);
    // In time order: the engine stored the payment (processing), then the same events arrive.
    const sentInOrder = gc.payments.get(gc.paymentIdOf((await renewalOf(inOrder)).id)!)!.payments;
    expect(await renewalOf(inOrder)).toMatchObject({ status: "processing", providerPaymentId: sentInOrder.id });
    sentInOrder.status = "cancelled";
    await webhookAt(cancelAt, ...cancelled(bob, sentInOrder));
    const outcome = async (id: string) => ({
      subscription: await subscription(id),
      renewal: (({ status, failureCode, nextRetryAt, providerPaymentId }) => ({ status, failureCode, nextRetryAt, paid: providerPaymentId !== null }))(await renewalOf(id)),
    });
    expect(await outcome(early)).toEqual(await outcome(inOrder));
    expect(await outcome(early)).toMatchObject({ renewal: { status: "failed", failureCode: "mandate_cancelled", nextRetryAt: iso(cancelAt + DAY) } });
    // The period stays owed: once a mandate is there, the retry is collected (attempt 2) for both alike.
    vi.setSystemTime(E + 2 * DAY);
    if (withMandate) for (const user of [ann, bob]) await addActiveToken(await signIn({ ...user, ip: freshClientIp() }));
    await run(E + 2 * DAY + MINUTE);
    for (const id of [early, inOrder]) expect((await attempts(id)).filter((row) => row.periodStart === iso(E)).map((row) => [row.attemptNumber, row.status])).toEqual([[1, "failed"], [2, "processing"]]);
  });

  it("refuses a chunk size it cannot honour, plainly", async () => {
    await expect(run(T0, { BILLING_ENGINE_CHUNK: "5000" })).rejects.toThrow("BILLING_ENGINE_CHUNK must be a whole number from 1 to 150");
  });
});
