import { env } from "cloudflare:workers";
import { createHmac } from "node:crypto";
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

function post(headers: Record<string, string>, body: string | Uint8Array<ArrayBuffer> = rawBody) {
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

describe("the signature covers the exact bytes received", () => {
  // GoCardless signs the bytes it sends. The expected signature is computed here with
  // node:crypto, independently of the Worker and of test/support's signer.
  const hexHmac = (bytes: Uint8Array) => createHmac("sha256", secret).update(bytes).digest("hex");
  const bytesOf = (...parts: (string | number[])[]) =>
    new Uint8Array(parts.flatMap((part) => (typeof part === "string" ? [...new TextEncoder().encode(part)] : part)));
  const eventJson = (id: string, description: string) =>
    `{"events":[{"id":"${id}","created_at":"2018-07-05T09:13:56.893Z","resource_type":"mandates","action":"created","links":{"mandate":"MD000AMA19XGEC"},"details":{"origin":"api","cause":"mandate_created","description":"${description}`;

  it("accepts a body starting with a UTF-8 byte order mark, signed over its bytes (BOM included)", async () => {
    const body = bytesOf([0xef, 0xbb, 0xbf], `${eventJson("EV00BOM0000001", "Mandate created via the API.")}"}}]}`);
    const response = await post({ "Webhook-Signature": hexHmac(body) }, body);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ received: 1, results: [{ eventId: "EV00BOM0000001", outcome: "ignored" }] });
  });

  it("refuses a body that is not UTF-8 under a valid signature: 400 INVALID_JSON, nothing recorded", async () => {
    // 0xE9 alone is Latin-1's é: no UTF-8 sequence starts with it and ends there.
    const body = bytesOf(eventJson("EV00LATIN10001", "Mandat cr"), [0xe9], `"}}]}`);
    const before = await billingSnapshot();
    const response = await post({ "Webhook-Signature": hexHmac(body) }, body);
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: { code: "INVALID_JSON", message: expect.stringContaining("UTF-8") } });
    expect(await billingSnapshot()).toEqual(before);
  });

  it("still refuses that body with a signature of its text read as UTF-8 (U+FFFD in place of the byte): 498", async () => {
    const body = bytesOf(eventJson("EV00LATIN10002", "Mandat cr"), [0xe9], `"}}]}`);
    const asText = new TextEncoder().encode(new TextDecoder().decode(body));
    const response = await post({ "Webhook-Signature": hexHmac(asText) }, body);
    expect(response.status).toBe(498);
  });
});
