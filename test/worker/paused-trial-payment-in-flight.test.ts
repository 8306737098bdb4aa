import { createScheduledController } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import worker from "../../src/index";
import { signedInUser, type TestUser } from "../support/auth-session";
import { api } from "../support/billing-api";
import { addActiveToken, seedPlan, setSubscriptionState, startPayment, subscribe } from "../support/billing-setup";
import { migrateToLatest } from "../support/migrate-to-latest";
import { paymentConfirmed, paymentFailed, sendWebhook } from "../support/webhook-signer";

// Older code paused a trial that ended while its first payment was in flight
// (today: past_due). docs/billing-lifecycle.md ("Trials paused by older code")
// says why no migration repairs such rows: every outcome of one is safe for
// money. These rows, as the older code left them, through the Worker on a real
// local D1.

const DAY_MS = 24 * 60 * 60 * 1000;
let ola: TestUser;
let plans = 0;

beforeAll(async () => {
  await migrateToLatest(env.DB);
  ola = await signedInUser("ola-paused@example.com");
  await addActiveToken(ola);
});

/** The operators' query in docs/billing-lifecycle.md: the subscriptions such rows are. */
async function foundByDocsQuery(): Promise<string[]> {
  const { results } = await env.DB.prepare(
    `select s.id, s.userId, s.trialEndsAt, a.id as attemptId, a.status, a.failureCode
     from user_subscriptions s join payment_attempts a on a.subscriptionId = s.id
     where s.status = 'paused' and a.createdAt < s.trialEndsAt
       and (a.status in ('pending', 'processing') or (a.status = 'failed' and a.nextRetryAt is not null))`,
  ).all<{ id: string }>();
  return results.map((found) => found.id);
}

async function row(id: string) {
  return env.DB.prepare("select status, currentPeriodStart, currentPeriodEnd, billingCycleAnchor from user_subscriptions where id = ?").bind(id).first<Record<string, string>>();
}

/**
 * A 14-day trial whose first payment started in the renewal window (pending,
 * for the period from the trial's end), then its trial ended a day ago and
 * the older code paused it: the row as that code left it.
 */
async function pausedWithPaymentInFlight(): Promise<{ id: string; attemptId: string }> {
  const code = `paused-${++plans}`;
  await seedPlan(code, { amountMinor: 1500, currency: "GBP", trialDays: 14 });
  const id = await subscribe(ola, code);
  const { currentPeriodEnd: trialEnd } = await setSubscriptionState(id, { periodEndsInDays: 2 });
  const attempt = await startPayment(ola, id);
  expect(await env.DB.prepare("select status, periodStart from payment_attempts where id = ?").bind(attempt.id).first()).toEqual({ status: "pending", periodStart: trialEnd });
  // Three days later, by moving the stored times back (the API has no clock to move).
  const shift = (iso: string) => new Date(Date.parse(iso) - 3 * DAY_MS).toISOString();
  const trial = (await row(id))!;
  await env.DB.batch([
    env.DB.prepare("update user_subscriptions set status = 'paused', currentPeriodStart = ?, currentPeriodEnd = ?, trialEndsAt = ?, billingCycleAnchor = ? where id = ?").bind(
      shift(trial.currentPeriodStart!),
      shift(trialEnd),
      shift(trialEnd),
      shift(trialEnd),
      id,
    ),
    env.DB.prepare("update payment_attempts set periodStart = ?, createdAt = ? where id = ?").bind(shift(trialEnd), new Date(Date.now() - 4 * DAY_MS).toISOString(), attempt.id),
  ]);
  return { id, attemptId: attempt.id };
}

describe("a trial paused by older code while its first payment was in flight", () => {
  it("gives no access meanwhile; its confirmation starts a new cycle at the confirmation (a whole period for the payment), nothing owed back", async () => {
    const { id, attemptId } = await pausedWithPaymentInFlight();
    expect((await api(`/api/billing/subscriptions/${id}`, { user: ola })).body.subscription.status).toBe("paused");
    expect((await api("/api/billing/entitlements", { user: ola })).body.entitlements.filter((e: { subscriptionId: string }) => e.subscriptionId === id)).toEqual([]);
    expect(await foundByDocsQuery()).toContain(id);

    const before = Date.now();
    expect((await sendWebhook([paymentConfirmed(attemptId)])).status).toBe(200);

    const paid = (await row(id))!;
    expect(paid.status).toBe("active");
    expect(Date.parse(paid.currentPeriodStart!)).toBeGreaterThanOrEqual(before);
    expect(paid.billingCycleAnchor).toBe(paid.currentPeriodStart);
    expect(Date.parse(paid.currentPeriodEnd!) - Date.parse(paid.currentPeriodStart!)).toBeGreaterThanOrEqual(28 * DAY_MS);
    expect(await env.DB.prepare("select status, refundDue from payment_attempts where id = ?").bind(attemptId).first()).toEqual({ status: "succeeded", refundDue: 0 });
  });

  it("its failure leaves it paused with nothing debited again; the user can pay, and that payment starts the new cycle", async () => {
    const { id, attemptId } = await pausedWithPaymentInFlight();
    expect((await sendWebhook([paymentFailed(attemptId)])).status).toBe(200);
    expect((await row(id))!.status).toBe("paused");
    const failed = await env.DB.prepare("select status, nextRetryAt from payment_attempts where id = ?").bind(attemptId).first<{ status: string; nextRetryAt: string }>();
    expect(failed).toEqual({ status: "failed", nextRetryAt: expect.any(String) });
    // The engine collects trialing, active and past_due subscriptions only: past the retry's time it starts nothing here.
    await worker.scheduled!(createScheduledController({ scheduledTime: new Date(Date.parse(failed!.nextRetryAt) + DAY_MS), cron: "*/15 * * * *" }), env);
    expect(await env.DB.prepare("select count(*) as n from payment_attempts where subscriptionId = ?").bind(id).first("n")).toBe(1);
    expect((await row(id))!.status).toBe("paused");
    expect(await foundByDocsQuery()).toContain(id);

    const again = await startPayment(ola, id);
    expect((await sendWebhook([paymentConfirmed(again.id)])).status).toBe(200);
    expect((await row(id))!.status).toBe("active");
    expect(await foundByDocsQuery()).not.toContain(id);
  });
});
