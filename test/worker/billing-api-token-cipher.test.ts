import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { app } from "../../src/app";
import { decodeBase64 } from "../../src/billing/base64";
import { loadTokenKeyring, openToken, sealToken } from "../../src/billing/token-cipher";
import { BillingError } from "../../src/billing/billing-error";
import { ORIGIN, signedInUser, type TestUser } from "../support/auth-session";
import { api, billingCounts, tokenBody, tokenBodyFor } from "../support/billing-api";
import { migrateToLatest } from "../support/migrate-to-latest";

// Direct-debit tokens are stored AES-256-GCM encrypted (fresh IV, key id,
// row id as additional data), and the route fails closed without keys.

const KEY_A = "OCkZxhsZYBOH+j4UQmiIQuZue0icYgS5WZZfJ5u2E/o=";
const KEY_B = "u2z+GJPCgygIE1LAYQDO9Dq/++O4Uk8sC0Fi9yCLWwQ=";
const KEY_C = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));

async function expectUnavailable(secret: string | undefined): Promise<void> {
  const error = await loadTokenKeyring(secret).catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(BillingError);
  expect((error as BillingError).code).toBe("TOKEN_ENCRYPTION_UNAVAILABLE");
}

describe("token cipher", () => {
  it("encrypts with the first key, a fresh 12-byte IV each time, never containing the plain text", async () => {
    const keyring = await loadTokenKeyring(`a:${KEY_A},b:${KEY_B}`);
    const one = await sealToken(keyring, "MD0001SECRET", "row-1");
    const two = await sealToken(keyring, "MD0001SECRET", "row-1");
    expect(one.keyId).toBe("a");
    expect(one.ciphertext).not.toBe(two.ciphertext);
    expect(decodeBase64(one.ciphertext.split(".")[0]!)).toHaveLength(12);
    expect(one.ciphertext).not.toContain("MD0001SECRET");
    expect(await openToken(keyring, one, "row-1")).toBe("MD0001SECRET");
  });

  it("rotation: after a new key is put first, old ciphertexts still open and new ones use the new key", async () => {
    const before = await loadTokenKeyring(`a:${KEY_A}`);
    const old = await sealToken(before, "MD-OLD", "row-2");
    const rotated = await loadTokenKeyring(`c:${KEY_C},a:${KEY_A}`);
    expect(await openToken(rotated, old, "row-2")).toBe("MD-OLD");
    expect((await sealToken(rotated, "MD-NEW", "row-3")).keyId).toBe("c");
    // Once the old key is dropped from the list, its ciphertexts cannot be read.
    await expect(openToken(await loadTokenKeyring(`c:${KEY_C}`), old, "row-2")).rejects.toThrow();
  });

  it("refuses a ciphertext moved to another row, or tampered with", async () => {
    const keyring = await loadTokenKeyring(`a:${KEY_A}`);
    const sealed = await sealToken(keyring, "MD-BOUND", "row-4");
    await expect(openToken(keyring, sealed, "row-5")).rejects.toThrow();
    const [iv, data] = sealed.ciphertext.split(".");
    const flipped = `${iv}.${data!.startsWith("A") ? "B" : "A"}${data!.slice(1)}`;
    await expect(openToken(keyring, { ...sealed, ciphertext: flipped }, "row-4")).rejects.toThrow();
  });

  it.each([
    ["unset", undefined],
    ["empty", ""],
    ["no key material", "k1"],
    ["a 16-byte key", `k1:${btoa("0123456789abcdef")}`],
    ["not base64", "k1:@@@@"],
    ["a bad key id", `bad id!:${KEY_A}`],
    ["a repeated key id", `k1:${KEY_A},k1:${KEY_B}`],
  ])("TOKEN_ENCRYPTION_KEYS %s → TOKEN_ENCRYPTION_UNAVAILABLE", async (_name, secret) => {
    await expectUnavailable(secret);
  });
});

describe("POST /direct-debit-tokens", () => {
  let frank: TestUser;

  beforeAll(async () => {
    await migrateToLatest(env.DB);
    frank = await signedInUser("frank@example.com");
  });

  it("stores a ciphertext that opens, with the test keys, to exactly the posted token", async () => {
    const body = await tokenBodyFor(frank);
    const created = await api("/api/billing/direct-debit-tokens", { user: frank, json: body });
    expect(created.status).toBe(201);
    const row = (await env.DB.prepare("select id, tokenCiphertext, tokenKeyId from direct_debit_tokens where id = ?")
      .bind(created.body.token.id)
      .first<{ id: string; tokenCiphertext: string; tokenKeyId: string }>())!;
    const keyring = await loadTokenKeyring(env.TOKEN_ENCRYPTION_KEYS);
    expect(await openToken(keyring, { ciphertext: row.tokenCiphertext, keyId: row.tokenKeyId }, row.id)).toBe(body.token);
  });

  it.each([
    ["no encryption keys", { TOKEN_ENCRYPTION_KEYS: undefined }],
    ["a malformed encryption key", { TOKEN_ENCRYPTION_KEYS: "k1:dG9vIHNob3J0" }],
    ["no fingerprint key", { TOKEN_FINGERPRINT_KEY: undefined }],
    ["a short fingerprint key", { TOKEN_FINGERPRINT_KEY: btoa("short") }],
  ])("with %s: 500 TOKEN_ENCRYPTION_UNAVAILABLE and nothing stored", async (_name, bindings) => {
    const before = await billingCounts();
    const body = tokenBody();
    const response = await app.fetch(
      new Request(`${ORIGIN}/api/billing/direct-debit-tokens`, {
        method: "POST",
        headers: { "content-type": "application/json", cookie: frank.cookie, origin: ORIGIN },
        body: JSON.stringify(body),
      }),
      { ...env, ...bindings },
    );
    const text = await response.text();
    expect(response.status).toBe(500);
    expect(JSON.parse(text)).toEqual({ error: { code: "TOKEN_ENCRYPTION_UNAVAILABLE", message: expect.any(String) } });
    expect(text).not.toContain(body.token);
    expect(await billingCounts()).toEqual(before);
  });
});
