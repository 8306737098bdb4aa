import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { signedInUser, type TestUser } from "../support/auth-session";
import { billingSnapshot } from "../support/billing-api";
import { addActiveToken, seedPlan, startPayment, subscribe } from "../support/billing-setup";
import { migrateToLatest } from "../support/migrate-to-latest";
import { paymentConfirmed, paymentFailed, sendWebhook } from "../support/webhook-signer";

// What a signed payment event trusts: the provider's payment id first, and
// our attempt id from the payment's metadata only while that attempt has no
// provider payment yet. An event that pairs one user's payment with another
// user's attempt must change neither (the unique provider-payment index backs
// this up), and must not poison the delivery with a 500.

let kim: TestUser;
let lou: TestUser;

beforeAll(async () => {
  await migrateToLatest(env.DB);
  await seedPlan("hooks-confirmed");
  await seedPlan("hooks-failed");
  kim = await signedInUser("kim-review@example.com");
  lou = await signedInUser("lou-review@example.com");
  await addActiveToken(kim);
  await addActiveToken(lou);
});

async function attempt(id: string) {
  return env.DB.prepare("select status, providerPaymentId from payment_attempts where id = ?").bind(id).first();
}

describe("a signed event naming one user's payment and another user's attempt", () => {
  it.each(["confirmed", "failed"] as const)("payments.%s: lou's attempt is untouched and the delivery is not poisoned", async (action) => {
    const kimAttempt = await startPayment(kim, await subscribe(kim, `hooks-${action}`));
    await sendWebhook([paymentConfirmed(kimAttempt.id, `PM-KIM-${action}`)]);
    const louAttempt = await startPayment(lou, await subscribe(lou, `hooks-${action}`));
    const before = await billingSnapshot();

    const event = action === "confirmed" ? paymentConfirmed(louAttempt.id, `PM-KIM-${action}`) : paymentFailed(louAttempt.id, "x", `PM-KIM-${action}`);
    const response = await sendWebhook([event]);

    expect(response.status).toBe(200);
    expect(await attempt(louAttempt.id)).toEqual({ status: "pending", providerPaymentId: null });
    // The event is about kim's payment, which had succeeded: a failure now is
    // kim's late failure (GoCardless's metadata names lou's attempt, but the payment id wins).
    expect(await attempt(kimAttempt.id)).toEqual({ status: action === "confirmed" ? "succeeded" : "failed", providerPaymentId: `PM-KIM-${action}` });
    // A late failure reopens kim's debt: her subscription moves too (the lifecycle's payment_reversed).
    const kimSubscription = (await env.DB.prepare("select status from user_subscriptions where id = (select subscriptionId from payment_attempts where id = ?)").bind(kimAttempt.id).first<{ status: string }>())!;
    expect(kimSubscription.status).toBe(action === "confirmed" ? "active" : "past_due");
    const after = await billingSnapshot();
    const others = (snapshot: typeof before) => ({
      ...snapshot,
      billing_webhook_events: [],
      payment_attempts: snapshot.payment_attempts!.filter((row: any) => row.id !== kimAttempt.id),
      user_subscriptions: snapshot.user_subscriptions!.filter((row: any) => row.userId !== kim.id),
    });
    expect(others(after)).toEqual(others(before));
  });
});
