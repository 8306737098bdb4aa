import { describe, expect, it } from "vitest";
import { secretProblems } from "../../src/config/secret-problems";

const GOOD = {
  BETTER_AUTH_SECRET: "Qm9vbXNoYWthbGFrYSBzZWNyZXQgdGhhdCBpcyBsb25n",
  TOKEN_ENCRYPTION_KEYS: "k1:u2z+GJPCgygIE1LAYQDO9Dq/++O4Uk8sC0Fi9yCLWwQ=",
  TOKEN_FINGERPRINT_KEY: "d+riBOOw1/5WvP2hKUZ0nsJvwRclScFn7aoog8Rz8ek=",
  WEBHOOK_SECRET_GOCARDLESS: "whsec_test_gocardless_0123456789abcdef",
};

describe("secretProblems (what the Worker refuses to run with)", () => {
  it("real-looking secrets: no problem", () => {
    expect(secretProblems(GOOD)).toEqual([]);
  });

  it.each([
    ["BETTER_AUTH_SECRET missing", { BETTER_AUTH_SECRET: undefined }, ["BETTER_AUTH_SECRET is not set"]],
    ["BETTER_AUTH_SECRET empty", { BETTER_AUTH_SECRET: "" }, ["BETTER_AUTH_SECRET is not set"]],
    ["BETTER_AUTH_SECRET the example's placeholder", { BETTER_AUTH_SECRET: "__RANDOM_32_BYTES_BASE64__" }, ["BETTER_AUTH_SECRET still holds the placeholder __RANDOM_32_BYTES_BASE64__"]],
    ["BETTER_AUTH_SECRET short", { BETTER_AUTH_SECRET: "secret" }, ["BETTER_AUTH_SECRET is shorter than 32 characters"]],
    ["a token key still the placeholder", { TOKEN_ENCRYPTION_KEYS: "k1:__RANDOM_32_BYTES_BASE64__" }, ["TOKEN_ENCRYPTION_KEYS still holds the placeholder __RANDOM_32_BYTES_BASE64__"]],
    ["the fingerprint key the placeholder", { TOKEN_FINGERPRINT_KEY: "__RANDOM_32_BYTES_BASE64__" }, ["TOKEN_FINGERPRINT_KEY still holds the placeholder __RANDOM_32_BYTES_BASE64__"]],
    ["the webhook secret the placeholder", { WEBHOOK_SECRET_GOCARDLESS: "__RANDOM_32_BYTES_BASE64__" }, ["WEBHOOK_SECRET_GOCARDLESS still holds the placeholder __RANDOM_32_BYTES_BASE64__"]],
    ["two at once", { BETTER_AUTH_SECRET: "x", TOKEN_FINGERPRINT_KEY: "__RANDOM_32_BYTES_BASE64__" }, ["BETTER_AUTH_SECRET is shorter than 32 characters", "TOKEN_FINGERPRINT_KEY still holds the placeholder __RANDOM_32_BYTES_BASE64__"]],
  ])("%s", (_name, overrides, problems) => {
    expect(secretProblems({ ...GOOD, ...overrides })).toEqual(problems);
  });

  it("token keys and webhook secrets that are simply unset are left to their routes (500 TOKEN_ENCRYPTION_UNAVAILABLE / WEBHOOK_NOT_CONFIGURED)", () => {
    expect(secretProblems({ BETTER_AUTH_SECRET: GOOD.BETTER_AUTH_SECRET })).toEqual([]);
  });
});
