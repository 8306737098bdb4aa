import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { gocardlessAdapter } from "../../src/billing/webhooks/gocardless-adapter";
import { signedInUser, type TestUser } from "../support/auth-session";
import { api, billingSnapshot, tokenBodyFor } from "../support/billing-api";
import { addActiveToken, seedPlan, startPayment, subscribe } from "../support/billing-setup";
import { migrateToLatest } from "../support/migrate-to-latest";
import { happenedInOrder, mandateEvent, paymentEvent, sendWebhook, type GoCardlessEvent, deliverEach } from "../support/webhook-signer";

// Every GoCardless event that moves money or a mandate, through the Worker on
// a real local D1: what it does, that a redelivery changes nothing, and that
// events arriving out of order leave the rows as the provider's final state says.

let gil: TestUser;
let plans = 0;

beforeAll(async () => {
  await migrateToLatest(env.DB);
  gil = await signedInUser("gil-events@example.com");
  await addActiveToken(gil);
});

/** A pending attempt on a fresh subscription of gil's, and the payment id GoCardless would give it. */
async function pendingAttempt(): Promise<{ id: string; subscriptionId: string; paymentId: string }> {
  const code = `events-${++plans}`;
  await seedPlan(code);
  const subscriptionId = await subscribe(gil, code);
  const attempt = await startPayment(gil, subscriptionId);
  return { id: attempt.id, subscriptionId, paymentId: `PM${crypto.randomUUID().slice(0, 12).toUpperCase()}` };
}

async function attemptRow(id: string) {
  return env.DB.prepare("select status, providerPaymentId, failureCode, nextRetryAt from payment_attempts where id = ?").bind(id).first();
}
/** What differs between two subscriptions after the same events (times aside): status, attempt status, failure, reversal. */
async function lifecycleOf(attempt: { id: string; subscriptionId: string }) {
  // (The period owed has ended: a first payment collected and taken back leaves no period running.)
  const row = await env.DB.prepare("select a.status, a.failureCode, a.reversal, a.refundDue, s.status as subscription, s.currentPeriodEnd = a.periodStart as owesAttemptsPeriod, s.currentPeriodEnd <= a.updatedAt as owedPeriodEnded from payment_attempts a join user_subscriptions s on s.id = a.subscriptionId where a.id = ?").bind(attempt.id).first();
  return row;
}
async function subscriptionStatus(id: string) {
  return (await env.DB.prepare("select status from user_subscriptions where id = ?").bind(id).first<{ status: string }>())!.status;
}


/** Redelivers events already applied: each is a duplicate and no billing row changes. */
async function expectRedeliveryChangesNothing(...events: GoCardlessEvent[]) {
  const before = await billingSnapshot();
  expect(await deliverEach(...events)).toEqual(events.map(() => "duplicate"));
  expect(await billingSnapshot()).toEqual(before);
}

describe("the GoCardless adapter's table", () => {
  const cases: [string, string][] = [
    ["payments.submitted", "payment_submitted"],
    ["payments.confirmed", "payment_succeeded"],
    ["payments.paid_out", "payment_succeeded"],
    ["payments.failed", "payment_failed"],
    // Recorded only: it settles a `failed` GoCardless also sends, and may follow a resubmission's `confirmed`.
    ["payments.late_failure_settled", "other"],
    ["payments.charged_back", "payment_reversed"],
    ["payments.chargeback_cancelled", "payment_reinstated"],
    ["payments.chargeback_settled", "payment_reversal_settled"],
    ["payments.cancelled", "payment_canceled"],
    ["payments.resubmission_requested", "payment_resubmission_requested"],
    ["payments.created", "other"],
    ["payments.constructor", "other"],
    ["mandates.active", "mandate_changed:active"],
    ["mandates.reinstated", "mandate_changed:active"],
    ["mandates.cancelled", "mandate_changed:revoked"],
    ["mandates.failed", "mandate_changed:failed"],
    ["mandates.blocked", "mandate_changed:failed"],
    ["mandates.expired", "mandate_changed:expired"],
    ["mandates.consumed", "mandate_changed:expired"],
    ["mandates.replaced", "mandate_changed:expired"],
    ["mandates.transferred", "mandate_transferred"],
    ["mandates.created", "other"],
    ["payouts.paid", "other"],
  ];
  it.each(cases)("%s → %s", (type, expected) => {
    const [resource_type, action] = type.split(".");
    const [event] = gocardlessAdapter.parseEvents(
      JSON.stringify({ events: [{ id: "EV1", resource_type, action, links: { payment: "PM1", mandate: "MD1" }, details: {} }] }),
    );
    expect(event!.kind === "mandate_changed" ? `${event!.kind}:${event!.status}` : event!.kind).toBe(expected);
    expect(event!.eventType).toBe(type);
  });
});

describe("payment events", () => {
  it("submitted → processing with the payment id; confirmed → succeeded and active; paid_out records only when it happened", async () => {
    const attempt = await pendingAttempt();
    const events = happenedInOrder([paymentEvent("submitted", attempt.id, attempt.paymentId), paymentEvent("confirmed", attempt.id, attempt.paymentId), paymentEvent("paid_out", attempt.id, attempt.paymentId)]);
    expect(await deliverEach(events[0]!)).toEqual(["applied"]);
    expect(await attemptRow(attempt.id)).toMatchObject({ status: "processing", providerPaymentId: attempt.paymentId });
    expect(await deliverEach(events[1]!, events[2]!)).toEqual(["applied", "applied"]);
    expect(await attemptRow(attempt.id)).toMatchObject({ status: "succeeded" });
    expect(await subscriptionStatus(attempt.subscriptionId)).toBe("active");
    await expectRedeliveryChangesNothing(...events);
  });

  it("paid_out when confirmed never came settles the attempt", async () => {
    const attempt = await pendingAttempt();
    expect(await deliverEach(paymentEvent("paid_out", attempt.id, attempt.paymentId))).toEqual(["applied"]);
    expect(await attemptRow(attempt.id)).toMatchObject({ status: "succeeded", providerPaymentId: attempt.paymentId });
    expect(await subscriptionStatus(attempt.subscriptionId)).toBe("active");
  });

  it("out of order: failed before submitted stays failed, and submitted is ignored", async () => {
    const attempt = await pendingAttempt();
    const failed = paymentEvent("failed", attempt.id, attempt.paymentId, "insufficient_funds");
    const submitted = paymentEvent("submitted", attempt.id, attempt.paymentId);
    expect(await deliverEach(failed, submitted)).toEqual(["applied", "ignored"]);
    expect(await attemptRow(attempt.id)).toMatchObject({ status: "failed", failureCode: "insufficient_funds", providerPaymentId: attempt.paymentId });
    await expectRedeliveryChangesNothing(failed, submitted);
  });

  it("failed after confirmed is a late failure: the attempt becomes failed with the cause, due again at once, and the debt reopens; a settled late failure changes nothing", async () => {
    const attempt = await pendingAttempt();
    const events = happenedInOrder([
      paymentEvent("confirmed", attempt.id, attempt.paymentId),
      paymentEvent("failed", attempt.id, attempt.paymentId, "refer_to_payer"),
      paymentEvent("late_failure_settled", attempt.id, attempt.paymentId),
    ]);
    expect(await deliverEach(events[0]!)).toEqual(["applied"]);
    expect(await subscriptionStatus(attempt.subscriptionId)).toBe("active");
    expect(await deliverEach(events[1]!, events[2]!)).toEqual(["applied", "ignored"]);
    expect(await attemptRow(attempt.id)).toMatchObject({ status: "failed", failureCode: "refer_to_payer", nextRetryAt: expect.any(String) });
    // The reversed money paid for the only period: it is owed again (the lifecycle's payment_reversed).
    expect(await subscriptionStatus(attempt.subscriptionId)).toBe("past_due");
    await expectRedeliveryChangesNothing(...events);
  });

  it("a created_at in the future cannot overtake what really happens later: it counts as happening when it arrived", async () => {
    const attempt = await pendingAttempt();
    const confirmed = { ...paymentEvent("confirmed", attempt.id, attempt.paymentId), created_at: "2099-01-01T00:00:00.000Z" };
    expect(await deliverEach(confirmed)).toEqual(["applied"]);
    expect(await deliverEach(paymentEvent("failed", attempt.id, attempt.paymentId, "refer_to_payer"))).toEqual(["applied"]);
    expect(await attemptRow(attempt.id)).toMatchObject({ status: "failed", failureCode: "refer_to_payer" });
    expect(await subscriptionStatus(attempt.subscriptionId)).toBe("past_due");
  });

  it("charged_back after paid_out → failed and past_due; chargeback_cancelled → succeeded and active again; chargeback_settled changes nothing", async () => {
    const attempt = await pendingAttempt();
    const [paidOut, chargedBack, cancelled, settled] = happenedInOrder([
      paymentEvent("paid_out", attempt.id, attempt.paymentId),
      paymentEvent("charged_back", attempt.id, attempt.paymentId, "authorisation_disputed"),
      paymentEvent("chargeback_cancelled", attempt.id, attempt.paymentId),
      paymentEvent("chargeback_settled", attempt.id, attempt.paymentId),
    ]);
    const events = [paidOut!, chargedBack!];
    expect(await deliverEach(...events)).toEqual(["applied", "applied"]);
    expect(await attemptRow(attempt.id)).toMatchObject({ status: "failed", failureCode: "authorisation_disputed" });
    expect(await subscriptionStatus(attempt.subscriptionId)).toBe("past_due");
    const more = [cancelled!, settled!];
    expect(await deliverEach(...more)).toEqual(["applied", "ignored"]);
    expect(await attemptRow(attempt.id)).toMatchObject({ status: "succeeded", failureCode: null, nextRetryAt: null });
    expect(await subscriptionStatus(attempt.subscriptionId)).toBe("active");
    await expectRedeliveryChangesNothing(...events, ...more);
  });

  it("out of order: charged_back before confirmed → failed; the late confirmed changes nothing (the chargeback sticks); chargeback_cancelled then pays the period", async () => {
    const attempt = await pendingAttempt();
    const [confirmed, paidOut, chargedBack, cancelled, settled] = happenedInOrder([
      paymentEvent("confirmed", attempt.id, attempt.paymentId),
      paymentEvent("paid_out", attempt.id, attempt.paymentId),
      paymentEvent("charged_back", attempt.id, attempt.paymentId, "authorisation_disputed"),
      paymentEvent("chargeback_cancelled", attempt.id, attempt.paymentId),
      paymentEvent("chargeback_settled", attempt.id, attempt.paymentId),
    ]);
    const events = [chargedBack!, confirmed!, paidOut!];
    expect(await deliverEach(...events)).toEqual(["applied", "ignored", "ignored"]);
    expect(await attemptRow(attempt.id)).toMatchObject({ status: "failed", failureCode: "authorisation_disputed", providerPaymentId: attempt.paymentId });
    // The chargeback implies the collection it took back: the subscription ends as in order.
    const inOrder = await pendingAttempt();
    await deliverEach(...happenedInOrder([paymentEvent("confirmed", inOrder.id, inOrder.paymentId), paymentEvent("charged_back", inOrder.id, inOrder.paymentId, "authorisation_disputed")]));
    expect(await lifecycleOf(attempt)).toEqual(await lifecycleOf(inOrder));
    expect(await subscriptionStatus(attempt.subscriptionId)).toBe("past_due");
    await expectRedeliveryChangesNothing(...events);
    expect(await deliverEach(cancelled!, settled!)).toEqual(["applied", "ignored"]);
    expect(await attemptRow(attempt.id)).toMatchObject({ status: "succeeded", failureCode: null });
    expect(await subscriptionStatus(attempt.subscriptionId)).toBe("active");
    await expectRedeliveryChangesNothing(...events, cancelled!);
  });

  it("out of order: chargeback_cancelled before its charged_back → succeeded; the late charged_back changes nothing", async () => {
    const attempt = await pendingAttempt();
    const [confirmed, chargedBack, cancelled] = happenedInOrder([
      paymentEvent("confirmed", attempt.id, attempt.paymentId),
      paymentEvent("charged_back", attempt.id, attempt.paymentId, "authorisation_disputed"),
      paymentEvent("chargeback_cancelled", attempt.id, attempt.paymentId),
    ]);
    const events = [confirmed!, cancelled!, chargedBack!];
    expect(await deliverEach(...events)).toEqual(["applied", "applied", "ignored"]);
    expect(await attemptRow(attempt.id)).toMatchObject({ status: "succeeded", failureCode: null });
    expect(await subscriptionStatus(attempt.subscriptionId)).toBe("active");
    await expectRedeliveryChangesNothing(...events);
  });

  it("chargeback_settled whose chargeback never came (or comes later) reverses the collection; the late chargeback records only when it happened, the late confirmed changes nothing", async () => {
    const attempt = await pendingAttempt();
    const [confirmed, reversal, settled] = happenedInOrder([
      paymentEvent("confirmed", attempt.id, attempt.paymentId),
      paymentEvent("charged_back", attempt.id, attempt.paymentId, "refer_to_payer"),
      paymentEvent("chargeback_settled", attempt.id, attempt.paymentId, "chargeback_settled"),
    ]);
    expect(await deliverEach(confirmed!, settled!, reversal!)).toEqual(["applied", "applied", "applied"]);
    expect(await attemptRow(attempt.id)).toMatchObject({ status: "failed", nextRetryAt: expect.any(String) });
    expect(await subscriptionStatus(attempt.subscriptionId)).toBe("past_due");
    // Before the confirmed arrived: the settled reversal fails the open attempt, the confirmed then changes nothing.
    const other = await pendingAttempt();
    const [otherConfirmed, otherSettled] = happenedInOrder([paymentEvent("confirmed", other.id, other.paymentId), paymentEvent("chargeback_settled", other.id, other.paymentId, "chargeback_settled")]);
    expect(await deliverEach(otherSettled!, otherConfirmed!)).toEqual(["applied", "ignored"]);
    expect(await attemptRow(other.id)).toMatchObject({ status: "failed" });
    expect(await lifecycleOf(other)).toEqual(await lifecycleOf(attempt));
    await expectRedeliveryChangesNothing(confirmed!, settled!, reversal!, otherSettled!, otherConfirmed!);
  });

  it("confirmed, charged_back, chargeback_cancelled, chargeback_settled end as in time order (succeeded, reinstated, active) in all 24 arrival orders", async () => {
    const names = ["confirmed", "charged_back", "chargeback_cancelled", "chargeback_settled"];
    const orders = names.flatMap((a) => names.flatMap((b) => names.flatMap((c) => names.filter((d) => new Set([a, b, c, d]).size === 4).map((d) => [a, b, c, d]))));
    const cases = [];
    for (const order of orders) {
      const attempt = await pendingAttempt();
      const events = happenedInOrder(names.map((action) => paymentEvent(action, attempt.id, attempt.paymentId)));
      cases.push({ attempt, order: order.map((name) => events[names.indexOf(name)]!) });
    }
    // Step k of every case in one delivery: each case's events arrive in separate deliveries, in its order.
    for (let step = 0; step < names.length; step++) expect((await sendWebhook(cases.map((c) => c.order[step]!))).status).toBe(200);
    const ends = await Promise.all(cases.map(async (c) => ({ order: c.order.map((event) => event.action), ...(await lifecycleOf(c.attempt)) })));
    expect(ends).toEqual(orders.map((order) => ({ order, status: "succeeded", failureCode: null, reversal: "reinstated", refundDue: 0, subscription: "active", owesAttemptsPeriod: 0, owedPeriodEnded: 0 })));
  });

  it("late_failure_settled is recorded only: the late failed it settles moves the money, and a resubmission's confirmed before it stands", async () => {
    const attempt = await pendingAttempt();
    const [confirmed, failed, resubmission, confirmedAgain, settled] = happenedInOrder([
      paymentEvent("confirmed", attempt.id, attempt.paymentId),
      paymentEvent("failed", attempt.id, attempt.paymentId, "refer_to_payer"),
      paymentEvent("resubmission_requested", attempt.id, attempt.paymentId),
      paymentEvent("confirmed", attempt.id, attempt.paymentId),
      paymentEvent("late_failure_settled", attempt.id, attempt.paymentId, "late_failure_settled"),
    ]);
    expect(await deliverEach(confirmed!, settled!)).toEqual(["applied", "ignored"]);
    expect(await attemptRow(attempt.id)).toMatchObject({ status: "succeeded" });
    expect(await deliverEach(failed!, resubmission!, confirmedAgain!)).toEqual(["applied", "applied", "applied"]);
    expect(await attemptRow(attempt.id)).toMatchObject({ status: "succeeded" });
    expect(await subscriptionStatus(attempt.subscriptionId)).toBe("active");
    await expectRedeliveryChangesNothing(confirmed!, settled!, failed!);
  });

  it("a late failure that overtook its confirmed is applied as a failure; the confirmed, which happened before it, then applies as the collection it took back", async () => {
    const attempt = await pendingAttempt();
    const [confirmed, failed, settled] = happenedInOrder([
      paymentEvent("confirmed", attempt.id, attempt.paymentId),
      paymentEvent("failed", attempt.id, attempt.paymentId, "refer_to_payer"),
      paymentEvent("late_failure_settled", attempt.id, attempt.paymentId),
    ]);
    expect(await deliverEach(failed!)).toEqual(["applied"]);
    expect(await attemptRow(attempt.id)).toMatchObject({ status: "failed", failureCode: "refer_to_payer" });
    expect(await deliverEach(confirmed!, settled!)).toEqual(["applied", "ignored"]);
    expect(await attemptRow(attempt.id)).toMatchObject({ status: "failed", failureCode: "refer_to_payer" });
    const inOrder = await pendingAttempt();
    await deliverEach(...happenedInOrder([paymentEvent("confirmed", inOrder.id, inOrder.paymentId), paymentEvent("failed", inOrder.id, inOrder.paymentId, "refer_to_payer")]));
    expect(await lifecycleOf(attempt)).toEqual(await lifecycleOf(inOrder));
    await expectRedeliveryChangesNothing(failed!, confirmed!, settled!);
  });

  it("cancelled on a pending attempt → failed with its cause, retried on the schedule (the period is still owed); a confirmed after it is still recorded (money that moved is never dropped)", async () => {
    const attempt = await pendingAttempt();
    const events = [paymentEvent("cancelled", attempt.id, attempt.paymentId, "mandate_cancelled"), paymentEvent("confirmed", attempt.id, attempt.paymentId)];
    expect(await deliverEach(events[0]!)).toEqual(["applied"]);
    expect(await attemptRow(attempt.id)).toMatchObject({ status: "failed", failureCode: "mandate_cancelled", nextRetryAt: expect.any(String) });
    // No money moved: the subscription is as it was (the lifecycle's payment_failed, retries left).
    expect(await subscriptionStatus(attempt.subscriptionId)).toBe("incomplete");
    expect(await deliverEach(events[1]!)).toEqual(["applied"]);
    expect(await attemptRow(attempt.id)).toMatchObject({ status: "succeeded" });
    expect(await subscriptionStatus(attempt.subscriptionId)).toBe("active");
    await expectRedeliveryChangesNothing(...events);
  });

  it("cancelled on an attempt already failed (its resubmission not arrived, or the same cancel learnt again) is recorded only: the failure's cause and retry stand, and the subscription takes no second failure (L4)", async () => {
    const attempt = await pendingAttempt();
    const [failed, cancelled] = happenedInOrder([paymentEvent("failed", attempt.id, attempt.paymentId, "insufficient_funds"), paymentEvent("cancelled", attempt.id, attempt.paymentId, "mandate_cancelled")]);
    expect(await deliverEach(failed!)).toEqual(["applied"]);
    const asFailed = await attemptRow(attempt.id);
    expect(asFailed).toMatchObject({ status: "failed", failureCode: "insufficient_funds", nextRetryAt: expect.any(String) });
    const before = await billingSnapshot();
    expect(await deliverEach(cancelled!)).toEqual(["applied"]);
    expect(await attemptRow(attempt.id)).toEqual(asFailed);
    // Only the time it happened is recorded on the attempt (a resubmission before it is then overtaken).
    const changed = (await billingSnapshot()).payment_attempts!.filter((row) => !before.payment_attempts!.some((was) => JSON.stringify(was) === JSON.stringify(row)));
    expect(changed).toEqual([expect.objectContaining({ id: attempt.id, moneyEventAt: cancelled!.created_at })]);
    expect(await subscriptionStatus(attempt.subscriptionId)).toBe("incomplete");
    await expectRedeliveryChangesNothing(failed!, cancelled!);
  });

  it("resubmission_requested after failed → processing with no retry of ours; then confirmed → succeeded", async () => {
    const attempt = await pendingAttempt();
    const events = [
      paymentEvent("failed", attempt.id, attempt.paymentId, "insufficient_funds"),
      paymentEvent("resubmission_requested", attempt.id, attempt.paymentId),
    ];
    expect(await deliverEach(...events)).toEqual(["applied", "applied"]);
    expect(await attemptRow(attempt.id)).toMatchObject({ status: "processing", failureCode: null, nextRetryAt: null });
    expect(await deliverEach(paymentEvent("confirmed", attempt.id, attempt.paymentId))).toEqual(["applied"]);
    expect(await attemptRow(attempt.id)).toMatchObject({ status: "succeeded" });
    await expectRedeliveryChangesNothing(...events);
  });
});

describe("two collections for one period", () => {
  // GoCardless's resubmission (Success+ or a retry from its dashboard) collects the
  // same payment again; a chargeback_cancelled gives reversed money back. Either can
  // meet our own retry for the same period: one open attempt per subscription stays
  // the rule, a period is never paid twice silently, and collected money is never dropped.
  async function row(id: string) {
    return env.DB.prepare("select status, providerPaymentId, failureCode, refundDue, periodStart from payment_attempts where id = ?").bind(id).first<Record<string, any>>();
  }
  async function period(id: string) {
    return env.DB.prepare("select status, currentPeriodStart, currentPeriodEnd from user_subscriptions where id = ?").bind(id).first<Record<string, any>>();
  }
  /** A failed first attempt and our own retry of it (pending, not sent yet). */
  async function failedAndRetried() {
    const first = await pendingAttempt();
    expect(await deliverEach(paymentEvent("failed", first.id, first.paymentId, "insufficient_funds"))).toEqual(["applied"]);
    const retry = await startPayment(gil, first.subscriptionId);
    return { first, retry: { id: retry.id, paymentId: `PM${crypto.randomUUID().slice(0, 12).toUpperCase()}` } };
  }

  it("resubmission_requested while our unsent retry is open: the retry is cancelled (never sent), the resubmitted payment collects", async () => {
    const { first, retry } = await failedAndRetried();
    const resubmitted = paymentEvent("resubmission_requested", first.id, first.paymentId);
    expect(await deliverEach(resubmitted)).toEqual(["applied"]);
    expect(await row(first.id)).toMatchObject({ status: "processing", failureCode: null });
    expect(await row(retry.id)).toMatchObject({ status: "canceled", failureCode: "superseded_by_resubmission" });
    expect(await deliverEach(paymentEvent("confirmed", first.id, first.paymentId))).toEqual(["applied"]);
    expect(await row(first.id)).toMatchObject({ status: "succeeded", refundDue: 0 });
    expect(await subscriptionStatus(first.subscriptionId)).toBe("active");
    await expectRedeliveryChangesNothing(resubmitted);
  });

  it("resubmission_requested while our retry was already sent: answered 200; if both collect, the second is recorded and owed back, the period paid once", async () => {
    const { first, retry } = await failedAndRetried();
    expect(await deliverEach(paymentEvent("submitted", retry.id, retry.paymentId), paymentEvent("resubmission_requested", first.id, first.paymentId))).toEqual(["applied", "applied"]);
    expect(await row(first.id)).toMatchObject({ status: "processing" });
    expect(await deliverEach(paymentEvent("confirmed", retry.id, retry.paymentId))).toEqual(["applied"]);
    expect(await row(retry.id)).toMatchObject({ status: "succeeded", refundDue: 0 });
    const paid = await period(first.subscriptionId);
    expect(paid).toMatchObject({ status: "active" });
    expect(await deliverEach(paymentEvent("confirmed", first.id, first.paymentId))).toEqual(["applied"]);
    expect(await row(first.id)).toMatchObject({ status: "succeeded", refundDue: 1 });
    expect(await period(first.subscriptionId)).toEqual(paid);
    // What the user and an operator see: the second collection is owed back.
    expect((await api(`/api/billing/payment-attempts/${first.id}`, { user: gil })).body.paymentAttempt).toMatchObject({ status: "succeeded", refundDue: true });
    expect((await api(`/api/billing/payment-attempts/${retry.id}`, { user: gil })).body.paymentAttempt).toMatchObject({ status: "succeeded", refundDue: false });
  });

  it("chargeback_cancelled while our retry of the reversed period is open: the retry is cancelled before it is sent; the period stays paid once", async () => {
    const first = await pendingAttempt();
    expect(await deliverEach(paymentEvent("confirmed", first.id, first.paymentId), paymentEvent("charged_back", first.id, first.paymentId, "authorisation_disputed"))).toEqual(["applied", "applied"]);
    expect(await subscriptionStatus(first.subscriptionId)).toBe("past_due");
    const retry = await startPayment(gil, first.subscriptionId);
    expect(await deliverEach(paymentEvent("chargeback_cancelled", first.id, first.paymentId))).toEqual(["applied"]);
    expect(await row(first.id)).toMatchObject({ status: "succeeded", refundDue: 0 });
    expect(await row(retry.id)).toMatchObject({ status: "canceled", failureCode: "superseded_by_collection" });
    expect(await subscriptionStatus(first.subscriptionId)).toBe("active");
  });

  it("chargeback_cancelled after our retry collected the reversed period: recorded, owed back, the period not paid twice", async () => {
    const first = await pendingAttempt();
    expect(await deliverEach(paymentEvent("confirmed", first.id, first.paymentId), paymentEvent("charged_back", first.id, first.paymentId, "authorisation_disputed"))).toEqual(["applied", "applied"]);
    const retry = await startPayment(gil, first.subscriptionId);
    expect(await deliverEach(paymentEvent("confirmed", retry.id, `PMR${retry.id.slice(0, 8)}`))).toEqual(["applied"]);
    const paid = await period(first.subscriptionId);
    expect(paid).toMatchObject({ status: "active" });
    expect(await deliverEach(paymentEvent("chargeback_cancelled", first.id, first.paymentId))).toEqual(["applied"]);
    expect(await row(first.id)).toMatchObject({ status: "succeeded", refundDue: 1 });
    expect(await row(retry.id)).toMatchObject({ status: "succeeded", refundDue: 0 });
    expect(await period(first.subscriptionId)).toEqual(paid);
  });

  it("a resubmission of a payment whose period our retry already collected is set aside, and if it collects anyway it is recorded and owed back", async () => {
    const { first, retry } = await failedAndRetried();
    expect(await deliverEach(paymentEvent("confirmed", retry.id, retry.paymentId))).toEqual(["applied"]);
    const paid = await period(first.subscriptionId);
    expect(await deliverEach(paymentEvent("resubmission_requested", first.id, first.paymentId))).toEqual(["applied"]);
    expect(await row(first.id)).toMatchObject({ status: "canceled", failureCode: "period_already_paid" });
    expect(await deliverEach(paymentEvent("confirmed", first.id, first.paymentId))).toEqual(["applied"]);
    expect(await row(first.id)).toMatchObject({ status: "succeeded", refundDue: 1 });
    expect(await period(first.subscriptionId)).toEqual(paid);
  });

  it("reverse order: confirmed for a payment we hold as failed (its resubmission not arrived) → succeeded and active, our open retry yields; the late resubmission_requested and submitted change nothing", async () => {
    const { first, retry } = await failedAndRetried();
    const [resubmission, submitted, confirmed] = happenedInOrder([
      paymentEvent("resubmission_requested", first.id, first.paymentId),
      paymentEvent("submitted", first.id, first.paymentId),
      paymentEvent("confirmed", first.id, first.paymentId),
    ]);
    expect(await deliverEach(confirmed!)).toEqual(["applied"]);
    expect(await row(first.id)).toMatchObject({ status: "succeeded", failureCode: null, refundDue: 0 });
    expect(await row(retry.id)).toMatchObject({ status: "canceled", failureCode: "superseded_by_collection" });
    const paid = await period(first.subscriptionId);
    expect(paid).toMatchObject({ status: "active" });
    const late = [resubmission!, submitted!];
    expect(await deliverEach(...late)).toEqual(["ignored", "ignored"]);
    expect(await row(first.id)).toMatchObject({ status: "succeeded", refundDue: 0 });
    expect(await period(first.subscriptionId)).toEqual(paid);
  });

  it("reverse order in one delivery: confirmed, then resubmission_requested and submitted for the same failed payment → succeeded, active", async () => {
    const { first, retry } = await failedAndRetried();
    const [resubmission, submitted, confirmed] = happenedInOrder([
      paymentEvent("resubmission_requested", first.id, first.paymentId),
      paymentEvent("submitted", first.id, first.paymentId),
      paymentEvent("confirmed", first.id, first.paymentId),
    ]);
    const response = await sendWebhook([confirmed!, resubmission!, submitted!]);
    expect(response.status).toBe(200);
    expect(((await response.json()) as any).results.map((result: any) => result.outcome)).toEqual(["applied", "ignored", "ignored"]);
    expect(await row(first.id)).toMatchObject({ status: "succeeded", refundDue: 0 });
    expect(await row(retry.id)).toMatchObject({ status: "canceled", failureCode: "superseded_by_collection" });
    expect(await subscriptionStatus(first.subscriptionId)).toBe("active");
  });

  it("reverse order: paid_out for a failed payment whose period our retry already collected → recorded and owed back, the period paid once", async () => {
    const { first, retry } = await failedAndRetried();
    expect(await deliverEach(paymentEvent("confirmed", retry.id, retry.paymentId))).toEqual(["applied"]);
    const paid = await period(first.subscriptionId);
    expect(await deliverEach(paymentEvent("paid_out", first.id, first.paymentId))).toEqual(["applied"]);
    expect(await row(first.id)).toMatchObject({ status: "succeeded", refundDue: 1 });
    expect(await row(retry.id)).toMatchObject({ status: "succeeded", refundDue: 0 });
    expect(await period(first.subscriptionId)).toEqual(paid);
  });

  it("no payment starts beside our sent retry set aside while GoCardless may collect it; one started once its cancel found nothing here (404) never takes its number, so when GoCardless collects the set-aside one the money is recorded", async () => {
    const { first, retry } = await failedAndRetried();
    const setAside = [paymentEvent("submitted", retry.id, retry.paymentId), paymentEvent("resubmission_requested", first.id, first.paymentId)];
    expect(await deliverEach(...setAside, paymentEvent("failed", first.id, first.paymentId, "insufficient_funds"))).toEqual(["applied", "applied", "applied"]);
    expect(await row(retry.id)).toMatchObject({ status: "canceled", failureCode: "superseded_by_resubmission" });
    // Its cancel still due at GoCardless: a second payment of the period would be collected beside it.
    const beside = await api(`/api/billing/subscriptions/${first.subscriptionId}/payment-attempts`, { user: gil, method: "POST", headers: { "Idempotency-Key": crypto.randomUUID() } });
    expect([beside.status, beside.body.error?.code]).toEqual([409, "PAYMENT_IN_PROGRESS"]);
    // The engine's cancel answered 404 (this account holds no such payment; cancelSetAsidePayments' write): it no longer blocks.
    await env.DB.prepare("update payment_attempts set providerCancel = 'cancellation_failed', failureMessage = 'cancel: resource_not_found: Resource not found' where id = ?").bind(retry.id).run();
    const again = await startPayment(gil, first.subscriptionId);
    const numbers = await env.DB.prepare("select id, attemptNumber from payment_attempts where subscriptionId = ? order by attemptNumber").bind(first.subscriptionId).all<{ id: string; attemptNumber: number }>();
    expect(numbers.results.map((attempt) => attempt.id)).toEqual([first.id, retry.id, again.id]);
    expect(new Set(numbers.results.map((attempt) => attempt.attemptNumber)).size).toBe(3);
    expect(await deliverEach(paymentEvent("confirmed", retry.id, retry.paymentId))).toEqual(["applied"]);
    expect(await row(retry.id)).toMatchObject({ status: "succeeded", refundDue: 0 });
    expect(await row(again.id)).toMatchObject({ status: "canceled", failureCode: "superseded_by_collection" });
    expect(await subscriptionStatus(first.subscriptionId)).toBe("active");
  });

  it("a late failure of the payment that paid the period, while a second collection for it is owed back: that one pays the period instead (refundDue cleared), nothing reopens", async () => {
    const { first, retry } = await failedAndRetried();
    expect(await deliverEach(paymentEvent("confirmed", retry.id, retry.paymentId))).toEqual(["applied"]);
    const paid = await period(first.subscriptionId);
    expect(await deliverEach(paymentEvent("resubmission_requested", first.id, first.paymentId), paymentEvent("confirmed", first.id, first.paymentId))).toEqual(["applied", "applied"]);
    expect(await row(first.id)).toMatchObject({ status: "succeeded", refundDue: 1 });
    const late = paymentEvent("failed", retry.id, retry.paymentId, "refer_to_payer");
    expect(await deliverEach(late)).toEqual(["applied"]);
    expect(await row(retry.id)).toMatchObject({ status: "failed", failureCode: "refer_to_payer", refundDue: 0 });
    expect(await row(first.id)).toMatchObject({ status: "succeeded", refundDue: 0 });
    expect(await period(first.subscriptionId)).toEqual(paid);
    await expectRedeliveryChangesNothing(late);
  });
});

describe("mandate events", () => {
  async function storedToken(status: string) {
    const body = await tokenBodyFor(gil);
    const created = await api("/api/billing/direct-debit-tokens", { user: gil, json: body });
    expect(created.status).toBe(201);
    await env.DB.prepare("update direct_debit_tokens set status = ?1, revokedAt = case when ?1 = 'revoked' then ?2 end where id = ?3")
      .bind(status, new Date().toISOString(), created.body.token.id)
      .run();
    return { id: created.body.token.id as string, mandateId: body.token };
  }
  async function tokenStatus(id: string) {
    return (await env.DB.prepare("select status from direct_debit_tokens where id = ?").bind(id).first<{ status: string }>())!.status;
  }

  it.each([
    ["reinstated", "expired", "active"],
    ["reinstated", "revoked", "revoked"],
    ["consumed", "active", "expired"],
    ["blocked", "active", "failed"],
    // Without links.new_mandate (it can no longer be charged); with one, mandate-replaced.test.ts: the token is re-pointed.
    ["replaced", "active", "expired"],
    ["transferred", "active", "active"],
    ["cancelled", "active", "revoked"],
  ])("mandates.%s on a token that is %s leaves it %s; a redelivery changes nothing", async (action, from, to) => {
    const token = await storedToken(from);
    const event = mandateEvent(token.mandateId, action);
    expect(await deliverEach(event)).toEqual([from === to ? "ignored" : "applied"]);
    expect(await tokenStatus(token.id)).toBe(to);
    await expectRedeliveryChangesNothing(event);
  });
});
