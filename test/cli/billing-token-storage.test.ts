import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kyselyMigrate } from "../../scripts/commands/kysely-migrate";
import { setUpStandInMandate, startGoCardlessStandIn } from "../../scripts/lib/gocardless-stand-in";
import { loadWrangler } from "../../scripts/lib/load-wrangler";
import { hermeticWranglerConfig } from "../support/hermetic-wrangler-config";
import { REPO_ROOT, runInProcess } from "./run-script";

// Secrets at rest: store direct-debit tokens through the real Worker (bundled
// and run in workerd by wrangler's unstable_startWorker, as `wrangler dev`
// does) against a temp --persist-to, stop it, then search every byte of the
// local D1's files (database, WAL, shared memory) for the plain tokens.
//
// Why this way: inside workerd a test cannot read the SQLite file, and a
// Worker run in Node (getPlatformProxy + app.fetch) would not be the Worker.

const ORIGIN = "http://localhost:8787";
const SECRETS = {
  BETTER_AUTH_SECRET: "storage-test-secret-at-least-32-characters",
  TOKEN_ENCRYPTION_KEYS: "k1:OCkZxhsZYBOH+j4UQmiIQuZue0icYgS5WZZfJ5u2E/o=",
  TOKEN_FINGERPRINT_KEY: "d+riBOOw1/5WvP2hKUZ0nsJvwRclScFn7aoog8Rz8ek=",
  WEBHOOK_SECRET_GOCARDLESS: "whsec_storage_test",
};

let dir: string;
/** Mandate ids the GoCardless stand-in gives the user's customer (filled in beforeAll). */
const tokens: string[] = [];
const references = Array.from({ length: 3 }, (_, i) => `VISIBLE-REF-${i}-${crypto.randomUUID().slice(0, 8)}`);
let ciphertextSamples: string[] = [];

/** Every file the local D1 keeps, read whole. */
async function d1Files(): Promise<{ file: string; bytes: Buffer }[]> {
  const root = path.join(dir, "v3", "d1");
  const names = (await readdir(root, { recursive: true, withFileTypes: true })).filter((entry) => entry.isFile());
  return Promise.all(
    names.map(async (entry) => {
      const file = path.join(entry.parentPath, entry.name);
      return { file: path.relative(dir, file), bytes: await readFile(file) };
    }),
  );
}

/** GoCardless's signature: hex HMAC-SHA256 of the raw body with the endpoint secret. */
async function sign(rawBody: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(SECRETS.WEBHOOK_SECRET_GOCARDLESS), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(rawBody)));
  return Buffer.from(mac).toString("hex");
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "billing-token-storage-"));
  const migrated = await runInProcess(kyselyMigrate, ["latest", "--persist-to", dir]);
  expect(migrated.code).toBe(0);

  // GoCardless, for the mandate-ownership check: a loopback stand-in.
  const standIn = await startGoCardlessStandIn({ port: 0, log: () => {} });
  const worker = await loadWrangler().unstable_startWorker({
    // A copy away from the developer's .dev.vars (wrangler reads it even with envFiles: []).
    config: hermeticWranglerConfig(path.join(REPO_ROOT, "wrangler.toml"), path.join(dir, "config")),
    bindings: {
      ...Object.fromEntries(Object.entries(SECRETS).map(([name, value]) => [name, { type: "secret_text" as const, value }])),
      GOCARDLESS_ACCESS_TOKEN: { type: "secret_text" as const, value: "local-stand-in" },
      GOCARDLESS_API_URL: { type: "plain_text" as const, value: standIn.url },
    },
    dev: { persist: dir, server: { port: 0 }, inspector: false, watch: false, logLevel: "error" },
  });
  try {
    await worker.ready;
    const call = (pathname: string, init: RequestInit & { headers?: Record<string, string> }) =>
      worker.fetch(`${ORIGIN}${pathname}`, { ...init, headers: { origin: ORIGIN, "content-type": "application/json", ...init.headers } } as never);

    const signedUp = await call("/api/auth/sign-up/email", {
      method: "POST",
      body: JSON.stringify({ email: "at-rest@example.com", password: "correct-horse-battery-staple", name: "At Rest" }),
    });
    expect(signedUp.status).toBe(200);
    const cookie = signedUp.headers.getSetCookie().find((c) => c.startsWith("better-auth.session_token="))!.split(";")[0]!;

    const customer = await call("/api/billing/provider-customers", {
      method: "POST",
      headers: { cookie },
      body: JSON.stringify({ provider: "gocardless", givenName: "At", familyName: "Rest" }),
    });
    expect(customer.status).toBe(201);
    const customerId = ((await customer.json()) as { customer: { customerId: string } }).customer.customerId;
    for (let i = 0; i < 3; i++) tokens.push(await setUpStandInMandate(standIn.url, customerId));
    for (const [i, token] of tokens.entries()) {
      const stored = await call("/api/billing/direct-debit-tokens", {
        method: "POST",
        headers: { cookie },
        body: JSON.stringify({ provider: "gocardless", token, mandateReference: references[i], accountLast4: "1234", bankName: "Starling" }),
      });
      expect(stored.status).toBe(201);
      expect(await stored.text()).not.toContain(token);
    }
    // A mandate id also travels through a webhook body: that must not be stored either.
    const rawBody = JSON.stringify({ events: [{ id: "EV-AT-REST", resource_type: "mandates", action: "active", links: { mandate: tokens[0] } }] });
    const webhook = await call("/api/billing/webhooks/gocardless", { method: "POST", body: rawBody, headers: { "Webhook-Signature": await sign(rawBody) } });
    expect(webhook.status).toBe(200);
    const listed = await call("/api/billing/direct-debit-tokens", { method: "GET", headers: { cookie } });
    expect(((await listed.json()) as { tokens: { status: string }[] }).tokens.map((t) => t.status).sort()).toEqual(["active", "pending", "pending"]);
  } finally {
    await worker.dispose();
    await standIn.close();
  }
  const { DatabaseSync } = await import("node:sqlite");
  const file = (await d1Files()).find((f) => f.file.endsWith(".sqlite") && !f.file.endsWith("metadata.sqlite"))!;
  const db = new DatabaseSync(path.join(dir, file.file), { readOnly: true });
  ciphertextSamples = db.prepare("select tokenCiphertext from direct_debit_tokens").all().map((row) => String(row.tokenCiphertext));
  db.close();
}, 120_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("direct-debit tokens at rest", () => {
  it("the search can see stored text: mandate references and ciphertexts are in the files", async () => {
    const files = await d1Files();
    expect(ciphertextSamples).toHaveLength(3);
    for (const visible of [...references, ...ciphertextSamples, "at-rest@example.com"]) {
      expect(files.some(({ bytes }) => bytes.includes(Buffer.from(visible, "utf8")))).toBe(true);
    }
  });

  it("no file of the local D1 contains a plain token (UTF-8), WAL and shared memory included", async () => {
    const files = await d1Files();
    expect(files.map((f) => path.basename(f.file)).some((name) => name.endsWith(".sqlite"))).toBe(true);
    for (const token of tokens) {
      const hits = files.filter(({ bytes }) => bytes.includes(Buffer.from(token, "utf8"))).map(({ file }) => file);
      expect({ token, hits }).toEqual({ token, hits: [] });
    }
  });
});
