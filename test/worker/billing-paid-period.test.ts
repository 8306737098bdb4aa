import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { signedInUser, type TestUser } from "../support/auth-session";
import { addActiveToken, seedPlan, setSubscriptionState, startPayment, subscribe } from "../support/billing-setup";
import { migrateToLatest } from "../support/migrate-to-latest";
import { paymentConfirmed, sendWebhook } from "../support/webhook-signer";

// Which period a successful payment buys: a fresh one from now for a
// subscription that never paid or was suspended (incomplete, unpaid, a trial
// that ended unpaid: paused); the one after the current period otherwise (the
// billing anchor stays), unless that one is already over. Never an active
// subscription whose period has ended. Starting the payment first applies the
// time events due (a period 40 days over is past the retry schedule: unpaid).
// Plans last 30 days so expected ends are plain arithmetic.

const DAY_MS = 24 * 60 * 60 * 1000;
const PERIOD_DAYS = 30;
let uma: TestUser;
let plans = 0;

beforeAll(async () => {
  await migrateToLatest(env.DB);
  uma = await signedInUser("uma-period@example.com");
  await addActiveToken(uma);
});

const plusDays = (iso: string, days: number) => new Date(Date.parse(iso) + days * DAY_MS).toISOString();

// Each case: a subscription in `status` whose current period ends `endsInDays`
// from now (negative: ended) when the payment succeeds; `starts` says where
// the paid period must start.
const cases: { status: string; endsInDays: number; starts: "now" | "after the current period" }[] = [
  { status: "incomplete", endsInDays: PERIOD_DAYS, starts: "now" },
  { status: "unpaid", endsInDays: -40, starts: "now" },
  { status: "unpaid", endsInDays: 10, starts: "now" },
  { status: "past_due", endsInDays: -5, starts: "after the current period" },
  { status: "past_due", endsInDays: -40, starts: "now" },
  { status: "active", endsInDays: 1, starts: "after the current period" },
  { status: "active", endsInDays: -5, starts: "after the current period" },
  { status: "active", endsInDays: -29, starts: "now" },
  { status: "active", endsInDays: -45, starts: "now" },
  { status: "trialing", endsInDays: 1, starts: "after the current period" },
  { status: "trialing", endsInDays: -1, starts: "now" },
  { status: "trialing", endsInDays: -40, starts: "now" },
];

describe("the period a successful payment pays for", () => {
  it.each(cases)("$status, period ending in $endsInDays days → starts $starts", async ({ status, endsInDays, starts }) => {
    const code = `period-${++plans}`;
    await seedPlan(code, { interval: "day", intervalCount: PERIOD_DAYS });
    const subscriptionId = await subscribe(uma, code);
    const current = await setSubscriptionState(subscriptionId, { periodEndsInDays: endsInDays, status });
    const attempt = await startPayment(uma, subscriptionId);

    const before = new Date().toISOString();
    expect((await sendWebhook([paymentConfirmed(attempt.id)])).status).toBe(200);
    const after = new Date().toISOString();

    const row = (await env.DB.prepare("select status, currentPeriodStart, currentPeriodEnd from user_subscriptions where id = ?")
      .bind(subscriptionId)
      .first<{ status: string; currentPeriodStart: string; currentPeriodEnd: string }>())!;
    expect(row.status).toBe("active");
    if (starts === "now") {
      expect(row.currentPeriodStart >= before && row.currentPeriodStart <= after).toBe(true);
    } else {
      expect(row.currentPeriodStart).toBe(current.currentPeriodEnd);
    }
    expect(row.currentPeriodEnd).toBe(plusDays(row.currentPeriodStart, PERIOD_DAYS));
    // The invariant behind the rule: what was just paid for has not ended yet.
    expect(row.currentPeriodEnd > after).toBe(true);
  });
});
