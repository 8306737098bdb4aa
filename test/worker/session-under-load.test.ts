import { env, exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { freshClientIp, ORIGIN, signUp, type TestUser } from "../support/auth-session";
import { migrateToLatest } from "../support/migrate-to-latest";

// Many requests of one isolate at once, some cancelled mid-flight by their
// client, must leave the isolate serving: Kysely used to queue every query of
// Better Auth's (isolate-wide) instance behind one lock, and a cancelled
// request never released it, so every later session lookup hung for good.

const BURST = 60;
/** Bursts per test: whether a cancellation lands while the lock is held is luck, so give it several chances. */
const ROUNDS = 3;
/** A request still unanswered after this long counts as hung (the runtime would cancel it). */
const HUNG_AFTER_MS = 10_000;
const TEST_TIMEOUT_MS = (ROUNDS + 2) * HUNG_AFTER_MS;

beforeAll(async () => {
  await migrateToLatest(env.DB);
});

/** Calls the Worker through its own entry point (a request of its own), cancelled when `signal` aborts. */
async function call(path: string, init: { cookie?: string; signal?: AbortSignal; method?: string; body?: string; ip?: string } = {}) {
  const headers = new Headers({ origin: ORIGIN, "cf-connecting-ip": init.ip ?? freshClientIp() });
  if (init.cookie) headers.set("cookie", init.cookie);
  if (init.body) headers.set("content-type", "application/json");
  const response = await exports.default.fetch(
    new Request(`${ORIGIN}${path}`, { method: init.method, body: init.body, headers, signal: init.signal }),
  );
  await response.arrayBuffer();
  return response.status;
}

/** `status` of the call, or "hung" when it does not answer within {@link HUNG_AFTER_MS}. */
function withinDeadline(status: Promise<number>): Promise<number | "hung"> {
  return Promise.race([status, new Promise<"hung">((resolve) => setTimeout(() => resolve("hung"), HUNG_AFTER_MS))]);
}

/**
 * {@link ROUNDS} times: fires `BURST` calls of `request(i, signal)` at once,
 * every other one aborted after 0–4 ms, and waits for all to settle. Returns
 * the outcomes of those not aborted.
 */
async function bursts(request: (i: number, signal: AbortSignal) => Promise<number>): Promise<(number | "hung")[]> {
  const kept: (number | "hung")[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const outcomes = await Promise.all(
      Array.from({ length: BURST }, async (_, i) => {
        const controller = new AbortController();
        const aborted = i % 2 === 1;
        if (aborted) setTimeout(() => controller.abort(), i % 5);
        const outcome = await withinDeadline(request(i, controller.signal).catch(() => -1));
        return aborted ? undefined : outcome;
      }),
    );
    kept.push(...outcomes.filter((outcome) => outcome !== undefined));
  }
  return kept;
}

/** A sign-up (its own client IP, so Better Auth's per-IP limit stays out of the way). */
function signUpCall(signal?: AbortSignal): Promise<number> {
  const email = `user-${crypto.randomUUID()}@example.com`;
  const body = JSON.stringify({ email, password: "correct-horse-battery-staple", name: "user" });
  return call("/api/auth/sign-up/email", { method: "POST", body, signal });
}

describe("an isolate under concurrent, partly aborted requests", () => {
  // Runs first in the file: the burst is Better Auth's first use in this isolate.
  it("answers after a burst of sign-ups and session checks during Better Auth's first use", async () => {
    const outcomes = await bursts((i, signal) =>
      // A few sign-ups (password hashing is slow on purpose), the rest session checks.
      i % 10 < 2 ? signUpCall(signal) : call("/api/auth/get-session", { cookie: "better-auth.session_token=not-a-session", signal }),
    );

    expect(outcomes.filter((outcome) => outcome !== 200)).toEqual([]);
    expect(await withinDeadline(signUpCall())).toBe(200);
  }, TEST_TIMEOUT_MS);

  it("answers a signed-in request with 200 after a burst of signed-in requests", async () => {
    const alice: TestUser = await signUp(`alice-${crypto.randomUUID()}@example.com`);

    const outcomes = await bursts((_, signal) => call("/api/billing/subscriptions", { cookie: alice.cookie, signal }));

    expect(outcomes.filter((outcome) => outcome !== 200)).toEqual([]);
    const after = await Promise.all(Array.from({ length: 5 }, () => withinDeadline(call("/api/billing/subscriptions", { cookie: alice.cookie }))));
    expect(after).toEqual([200, 200, 200, 200, 200]);
  }, TEST_TIMEOUT_MS);
});
