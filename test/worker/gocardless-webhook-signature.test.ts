import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { app } from "../../src/app";
import { ORIGIN } from "../support/auth-session";
import { billingSnapshot } from "../support/billing-api";
import { PUBLISHED_WEBHOOK } from "../support/gocardless/published-webhook";
import { migrateToLatest } from "../support/migrate-to-latest";

// GoCardless signs a delivery with a plain hex HMAC-SHA256 of the raw body
// under the endpoint's secret, in `Webhook-Signature`, and expects 498 for a
// signature it did not make. Checked against GoCardless's own published example.

const { secret, rawBody, signature } = PUBLISHED_WEBHOOK;

function post(headers: Record<string, string>, body: string = rawBody) {
  return app.fetch(
    new Request(`${ORIGIN}/api/billing/webhooks/gocardless`, {
      method: "POST",
      body,
      headers: { "content-type": "application/json", ...headers },
    }),
    { ...env, WEBHOOK_SECRET_GOCARDLESS: secret },
  );
}

async function stripeStyleHeader(): Promise<string> {
  const t = Math.floor(Date.now() / 1000);
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`${t}.${rawBody}`)));
  return `t=${t},v1=${Array.from(mac, (byte) => byte.toString(16).padStart(2, "0")).join("")}`;
}

beforeAll(async () => {
  await migrateToLatest(env.DB);
});

describe("GoCardless's published webhook example", () => {
  it("is accepted as sent, and its events are recorded and acknowledged", async () => {
    const response = await post({ "Webhook-Signature": signature });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      received: 2,
      results: [
        { eventId: "EV00BD05S5VM2T", outcome: "ignored" },
        { eventId: "EV00BD05TB8K63", outcome: "ignored" },
      ],
    });
    const rows = await env.DB.prepare("select eventId, eventType from billing_webhook_events where provider = 'gocardless' order by eventId").all();
    expect(rows.results).toEqual([
      { eventId: "EV00BD05S5VM2T", eventType: "subscriptions.created" },
      { eventId: "EV00BD05TB8K63", eventType: "mandates.created" },
    ]);
  });

  const refused: [string, () => Promise<Record<string, string>>][] = [
    ["no signature", async () => ({})],
    ["an empty signature", async () => ({ "Webhook-Signature": "" })],
    ["a Stripe-style t=…,v1=… signature of the same body and secret", async () => ({ "Webhook-Signature": await stripeStyleHeader() })],
    ["the signature upper-cased", async () => ({ "Webhook-Signature": signature.toUpperCase() })],
    ["the signature with a prefix", async () => ({ "Webhook-Signature": `sha256=${signature}` })],
    ["the signature cut short", async () => ({ "Webhook-Signature": signature.slice(0, 62) })],
    ["the signature with one digit changed", async () => ({ "Webhook-Signature": `${signature.slice(0, 63)}f` })],
    ["the signature twice, comma-separated", async () => ({ "Webhook-Signature": `${signature},${signature}` })],
  ];

  it.each(refused)("refuses %s: 498 INVALID_SIGNATURE, nothing recorded", async (_name, headers) => {
    const before = await billingSnapshot();
    const response = await post(await headers(), rawBody.replace("EV00BD05S5VM2T", "EV00BD05S5VM2X"));
    expect(response.status).toBe(498);
    expect(await response.json()).toEqual({ error: { code: "INVALID_SIGNATURE", message: expect.any(String) } });
    expect(await billingSnapshot()).toEqual(before);
  });

  it("refuses the published signature over a body changed by one character", async () => {
    const response = await post({ "Webhook-Signature": signature }, rawBody.replace("EV00BD05S5VM2T", "EV00BD05S5VM2X"));
    expect(response.status).toBe(498);
  });
});
