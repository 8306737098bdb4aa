import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { BILLING_LIMITS } from "../../src/db/billing-limits";
import { signedInUser, type TestUser } from "../support/auth-session";
import { api, billingSnapshot, tokenBodyFor } from "../support/billing-api";
import { addActiveToken, seedPlan, startPayment, subscribe } from "../support/billing-setup";
import { migrateToLatest } from "../support/migrate-to-latest";
import { mandateEvent, paymentConfirmed, paymentFailed, sendWebhook, type GoCardlessEvent } from "../support/webhook-signer";

// A validly signed event whose values the database would refuse must not
// poison its delivery (a 500 makes the provider redeliver the whole batch
// forever, and the events after it never apply): free text is cleaned and
// clamped to the schema's limits, an event whose ids cannot be valid is
// recorded as ignored. Tests share one database and run in order.

let vic: TestUser;
let mandateId: string;
let plans = 0;

beforeAll(async () => {
  await migrateToLatest(env.DB);
  vic = await signedInUser("vic-poison@example.com");
  mandateId = (await addActiveToken(vic)).mandateId;
});

/** A pending attempt on a fresh subscription of vic's. */
async function pendingAttempt(): Promise<string> {
  const code = `poison-${++plans}`;
  await seedPlan(code);
  return (await startPayment(vic, await subscribe(vic, code))).id;
}
async function attemptRow(id: string) {
  return (await env.DB.prepare("select status, providerPaymentId, failureCode, failureMessage from payment_attempts where id = ?").bind(id).first<Record<string, any>>())!;
}
async function deliver(events: GoCardlessEvent[]): Promise<{ status: number; outcomes: string[] }> {
  const response = await sendWebhook(events);
  const body = (await response.json()) as { results?: { outcome: string }[] };
  return { status: response.status, outcomes: body.results?.map((result) => result.outcome) ?? [] };
}

describe("free text the database would refuse", () => {
  it("a payments.failed with NUL and over-long cause and description, then a normal event: 200, both applied, the text cleaned and clamped", async () => {
    const failing = await pendingAttempt();
    const next = await pendingAttempt();
    const cause = `\u0000${"c".repeat(BILLING_LIMITS.failureCodeLength * 3)}`;
    // Astral characters count 2 in String#length but 1 in SQLite's length().
    const description = `\u0000${"é😀\u0000".repeat(BILLING_LIMITS.failureMessageLength)}`;
    const failed = paymentFailed(failing);
    failed.details = { ...(failed.details as object), cause, description };

    const delivery = await deliver([failed, paymentConfirmed(next)]);

    expect(delivery).toEqual({ status: 200, outcomes: ["applied", "applied"] });
    const row = await attemptRow(failing);
    expect(row).toMatchObject({ status: "failed", failureCode: "c".repeat(BILLING_LIMITS.failureCodeLength) });
    const expectedMessage = [...description.replaceAll("\u0000", "")].slice(0, BILLING_LIMITS.failureMessageLength).join("");
    expect(row.failureMessage).toBe(expectedMessage);
    const stored = await env.DB.prepare("select length(failureMessage) as n from payment_attempts where id = ?").bind(failing).first("n");
    expect(stored).toBe(BILLING_LIMITS.failureMessageLength);
    expect((await attemptRow(next)).status).toBe("succeeded");
  });

  it("a cause and description made only of NUL fall back to a placeholder instead of empty text", async () => {
    const failing = await pendingAttempt();
    const failed = paymentFailed(failing);
    failed.details = { cause: "\u0000\u0000", description: "\u0000" };

    expect(await deliver([failed])).toEqual({ status: 200, outcomes: ["applied"] });
    const row = await attemptRow(failing);
    expect(row.status).toBe("failed");
    for (const text of [row.failureCode, row.failureMessage]) {
      expect(text.length).toBeGreaterThan(0);
      expect(text).not.toContain("\u0000");
    }
  });
});

describe("ids and names that cannot be valid", () => {
  const link = (event: GoCardlessEvent, links: Record<string, string>) => ({ ...event, links });
  const cases: [string, (attemptId: string) => GoCardlessEvent][] = [
    ["a payment id with NUL", (id) => link(paymentConfirmed(id), { payment: "PM\u0000NUL" })],
    ["a payment id one character too long", (id) => link(paymentConfirmed(id), { payment: "P".repeat(BILLING_LIMITS.providerIdLength + 1) })],
    ["an empty payment id", (id) => link(paymentFailed(id), { payment: "" })],
    ["no payment id at all", (id) => link(paymentConfirmed(id), {})],
    ["a mandate id with NUL", () => link(mandateEvent(mandateId, "cancelled"), { mandate: `${mandateId}\u0000` })],
    ["a mandate id one character too long", () => link(mandateEvent(mandateId, "cancelled"), { mandate: "M".repeat(BILLING_LIMITS.providerIdLength + 1) })],
    ["an event id with NUL", (id) => ({ ...paymentConfirmed(id), id: "EV\u0000NUL" })],
    ["an event id one character too long", (id) => ({ ...paymentConfirmed(id), id: "E".repeat(BILLING_LIMITS.providerIdLength + 1) })],
    ["an empty event id", (id) => ({ ...paymentConfirmed(id), id: "" })],
    // JSON may carry a lone UTF-16 surrogate ("\ud800"): no text SQLite can store and give back equal.
    ["an event id with a lone surrogate", (id) => ({ ...paymentConfirmed(id), id: "EVokA\ud800" })],
    ["a payment id with a lone surrogate", (id) => link(paymentConfirmed(id), { payment: "PM\udc00" })],
    ["a resource type with NUL", () => ({ ...mandateEvent(mandateId, "cancelled"), resource_type: "\u0000mandates" })],
    ["a mandate action named like an Object method", () => ({ ...mandateEvent(mandateId, "cancelled"), action: "constructor" })],
  ];

  it(`${cases.length} such events, then a normal one: 200, each recorded as ignored and changing nothing, the normal one applied; a redelivery changes nothing`, async () => {
    const target = await pendingAttempt();
    const next = await pendingAttempt();
    const events = [...cases.map(([, make]) => make(target)), paymentConfirmed(next)];
    const recordsBefore = (await env.DB.prepare("select count(*) as n from billing_webhook_events").first<number>("n"))!;

    const delivery = await deliver(events);

    expect(delivery).toEqual({ status: 200, outcomes: [...cases.map(() => "ignored"), "applied"] });
    expect(await attemptRow(target)).toMatchObject({ status: "pending", providerPaymentId: null });
    const token = await env.DB.prepare("select status from direct_debit_tokens where userId = ?").bind(vic.id).first("status");
    expect(token).toBe("active");
    expect((await attemptRow(next)).status).toBe("succeeded");
    const records = await env.DB.prepare("select outcome, count(*) as n from billing_webhook_events where rowid > ? group by outcome order by outcome")
      .bind(recordsBefore)
      .all();
    expect(records.results).toEqual([
      { outcome: "applied", n: 1 },
      { outcome: "ignored", n: cases.length },
    ]);

    const snapshot = await billingSnapshot();
    const redelivery = await deliver(events);
    expect(redelivery).toEqual({ status: 200, outcomes: events.map(() => "duplicate") });
    expect(await billingSnapshot()).toEqual(snapshot);
  });
});

describe("fields GoCardless may send as null, or of another type", () => {
  // GoCardless's event reference has nullable fields (details.cause,
  // details.description, resource_metadata); only a body without an events
  // array, or an event without a string id/resource_type/action, is refused.
  it("each odd event is applied without its bad field (or ignored when nothing can be matched), the others applied: 200", async () => {
    const ids = await Promise.all(Array.from({ length: 8 }, () => pendingAttempt()));
    const [noDescription, noCause, noMetadata, nullCreatedAt, numberCreatedAt, stringDetails, noLinks] = ids as [string, string, string, string, string, string, string];
    const normal = ids[7]!;
    const failed = paymentFailed(noDescription);
    const events: GoCardlessEvent[] = [
      { ...failed, details: { ...(failed.details as object), description: null } } as any,
      { ...paymentFailed(noCause), details: { origin: "bank", cause: null, description: "Refused." } } as any,
      { ...paymentConfirmed(noMetadata), resource_metadata: null } as any,
      { ...paymentConfirmed(nullCreatedAt), created_at: null } as any,
      { ...paymentConfirmed(numberCreatedAt), created_at: 1767225600 } as any,
      { ...paymentFailed(stringDetails), details: "str" } as any,
      { ...paymentConfirmed(noLinks), links: null } as any,
      paymentConfirmed(normal),
    ];

    const delivery = await deliver(events);

    expect(delivery).toEqual({ status: 200, outcomes: ["applied", "applied", "ignored", "applied", "applied", "applied", "ignored", "applied"] });
    expect(await attemptRow(noDescription)).toMatchObject({ status: "failed", failureCode: "insufficient_funds", failureMessage: "GoCardless: payments.failed" });
    expect(await attemptRow(noCause)).toMatchObject({ status: "failed", failureCode: "failed", failureMessage: "Refused." });
    expect((await attemptRow(nullCreatedAt)).status).toBe("succeeded");
    expect((await attemptRow(numberCreatedAt)).status).toBe("succeeded");
    expect(await attemptRow(stringDetails)).toMatchObject({ status: "failed", failureCode: "failed", failureMessage: "GoCardless: payments.failed" });
    expect(await attemptRow(noLinks)).toMatchObject({ status: "pending", providerPaymentId: null });
    expect((await attemptRow(noMetadata)).status).toBe("pending");
    expect((await attemptRow(normal)).status).toBe("succeeded");
  });
});

describe("a write the database refuses for a reason normalising cannot see", () => {
  // A rule's write can collide with other rows (a unique index) on every try. Such an event is no bad
  // value: it stays unrecorded and the delivery answers 500, so GoCardless redelivers it; but the
  // delivery's other events apply first, and are duplicates on the redelivery (issue 11, overlap).
  it("the delivery's other events still apply; the refused payment event is left unrecorded, the delivery answers 500, and the redelivery retries only that event", async () => {
    const refused = await pendingAttempt();
    const pending = await tokenBodyFor(vic);
    expect((await api("/api/billing/direct-debit-tokens", { user: vic, json: pending })).status).toBe(201);
    const events = [paymentConfirmed(refused), mandateEvent(pending.token, "active")];
    const pendingTokens = () => env.DB.prepare("select count(*) as n from direct_debit_tokens where userId = ? and status = 'pending'").bind(vic.id).first("n");
    // Every write of the attempt fails, as a unique index refusing it would (on real D1: a trigger).
    await env.DB.prepare(`create trigger refuse_attempt before update on payment_attempts when old.id = '${refused}' begin select raise(abort, 'UNIQUE constraint failed: payment_attempts.subscriptionId'); end`).run();
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      for (let delivery = 1; delivery <= 2; delivery++) {
        const response = await sendWebhook(events);
        expect(response.status).toBe(500);
        expect((await response.json()) as object).toMatchObject({ error: { code: "INTERNAL_ERROR" } });
        expect(await pendingTokens()).toBe(0);
        expect(await attemptRow(refused)).toMatchObject({ status: "pending" });
        const recorded = await env.DB.prepare("select eventId from billing_webhook_events where eventId in (?, ?)").bind(events[0]!.id, events[1]!.id).all();
        expect(recorded.results).toEqual([{ eventId: events[1]!.id }]);
      }
      // Said, with the event and why.
      expect(String(errors.mock.calls.flat().map((e) => `${e} ${(e as Error).cause ?? ""}`))).toMatch(new RegExp(`${events[0]!.id}.*UNIQUE constraint failed`, "s"));
    } finally {
      await env.DB.prepare("drop trigger refuse_attempt").run();
      errors.mockRestore();
    }
    expect(await deliver(events)).toEqual({ status: 200, outcomes: ["applied", "duplicate"] });
    expect((await attemptRow(refused)).status).toBe("succeeded");
  });
});
