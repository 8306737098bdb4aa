import { env } from "cloudflare:workers";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { app } from "../../src/app";
import { ORIGIN } from "../support/auth-session";
import { migrateToLatest } from "../support/migrate-to-latest";

// A Worker started from a copied .dev.vars.example, or deployed without its
// secrets, must not sign sessions with a public or guessable value: every
// /api request is refused with one code, and the log names the variable.

beforeAll(() => migrateToLatest(env.DB));
afterEach(() => vi.restoreAllMocks());

const signUp = (workerEnv: Record<string, unknown>) =>
  app.fetch(
    new Request(`${ORIGIN}/api/auth/sign-up/email`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: ORIGIN },
      body: JSON.stringify({ email: `s-${crypto.randomUUID()}@example.com`, password: "correct-horse-battery-staple", name: "S" }),
    }),
    workerEnv,
  );

describe("placeholder, short or missing secrets", () => {
  it.each([
    ["BETTER_AUTH_SECRET", "__RANDOM_32_BYTES_BASE64__", "BETTER_AUTH_SECRET still holds the placeholder"],
    ["BETTER_AUTH_SECRET", "too-short", "BETTER_AUTH_SECRET is shorter than 32 characters"],
    ["BETTER_AUTH_SECRET", undefined, "BETTER_AUTH_SECRET is not set"],
    ["TOKEN_ENCRYPTION_KEYS", "k1:__RANDOM_32_BYTES_BASE64__", "TOKEN_ENCRYPTION_KEYS still holds the placeholder"],
    ["TOKEN_FINGERPRINT_KEY", "__RANDOM_32_BYTES_BASE64__", "TOKEN_FINGERPRINT_KEY still holds the placeholder"],
  ])("%s = %j: auth and billing answer 500 SECRETS_NOT_CONFIGURED, one log line names it", async (name, value, logged) => {
    const log = vi.spyOn(console, "error").mockImplementation(() => {});
    // One bindings object, as in a deployed isolate: checked and logged once.
    const workerEnv = { ...env, [name]: value };

    const auth = await signUp(workerEnv);
    const billing = await app.fetch(new Request(`${ORIGIN}/api/billing/plans`), workerEnv);

    for (const response of [auth, billing]) {
      expect(response.status).toBe(500);
      expect(await response.json()).toEqual({ error: { code: "SECRETS_NOT_CONFIGURED", message: expect.any(String) } });
    }
    const lines = log.mock.calls.map((call) => String(call[0])).filter((line) => line.startsWith("refusing /api requests"));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(logged);
  });

  it("the response never contains the secret's value", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const response = await signUp({ ...env, BETTER_AUTH_SECRET: "short-secret-value" });
    expect(await response.text()).not.toContain("short-secret-value");
  });

  it("with the test's real secrets, sign-up works", async () => {
    expect((await signUp({ ...env })).status).toBe(200);
  });
});
