import { env, exports } from "cloudflare:workers";
import { betterAuth } from "better-auth";
import { hashPassword } from "better-auth/crypto";
import { testUtils } from "better-auth/plugins";
import { authOptions } from "../../src/auth/create-auth";
import type { Env } from "../../src/env";

export const ORIGIN = "http://localhost:8787";

let nextClientIp = 1;

/**
 * A distinct client IP per test user. Better Auth rate-limits sign-up and
 * sign-in per IP (3 per 10 s), and its counters live in D1, so users that
 * share an IP would throttle each other.
 */
export function freshClientIp(): string {
  const n = nextClientIp++;
  return `198.51.${Math.floor(n / 250)}.${(n % 250) + 1}`;
}

/** Calls the Worker like a browser on {@link ORIGIN} would. */
export function callWorker(path: string, init: RequestInit & { ip?: string; cookie?: string } = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set("origin", ORIGIN);
  if (init.ip) headers.set("cf-connecting-ip", init.ip);
  if (init.cookie) headers.set("cookie", init.cookie);
  if (init.body && !headers.has("content-type")) headers.set("content-type", "application/json");
  return exports.default.fetch(new Request(`${ORIGIN}${path}`, { ...init, headers }));
}

export interface TestUser {
  id: string;
  email: string;
  password: string;
  ip: string;
  /** `better-auth.session_token=…`, ready for a `cookie` header. */
  cookie: string;
}

/**
 * Signs a new user up through the Worker's Better Auth endpoint.
 *
 * @example
 * ```ts
 * const alice = await signUp("alice@example.com")
 * await callWorker("/api/billing/subscriptions", { cookie: alice.cookie })
 * ```
 */
export async function signUp(email: string, password = "correct-horse-battery-staple"): Promise<TestUser> {
  const ip = freshClientIp();
  const response = await callWorker("/api/auth/sign-up/email", {
    method: "POST",
    ip,
    body: JSON.stringify({ email, password, name: email.split("@")[0] }),
  });
  if (response.status !== 200) throw new Error(`sign-up failed: ${response.status} ${await response.text()}`);
  const { user } = await response.json<{ user: { id: string } }>();
  return { id: user.id, email, password, ip, cookie: sessionCookie(response) };
}

/** The session cookie a Better Auth response sets, as a `cookie` header value. */
export function sessionCookie(response: Response): string {
  const setCookie = response.headers.getSetCookie().find((c) => c.startsWith("better-auth.session_token="));
  if (!setCookie) throw new Error("response set no session cookie");
  return setCookie.split(";")[0]!;
}

/**
 * Signs `user` in again and returns them with the new session cookie (a test
 * that moves the clock past the session's expiry needs a fresh one).
 *
 * @example
 * ```ts
 * alice = await signIn(alice)
 * ```
 */
export async function signIn(user: TestUser): Promise<TestUser> {
  const response = await callWorker("/api/auth/sign-in/email", {
    method: "POST",
    ip: user.ip,
    body: JSON.stringify({ email: user.email, password: user.password }),
  });
  if (response.status !== 200) throw new Error(`sign-in failed: ${response.status} ${await response.text()}`);
  return { ...user, cookie: sessionCookie(response) };
}

// Better Auth's own test helpers, on an instance with the app's options (same
// secret, same D1, same cookie names), so the sessions they open are ones the
// app's Better Auth accepts.
let testAuth: ReturnType<typeof createTestAuth> | undefined;
function createTestAuth() {
  const options = authOptions(env as unknown as Env);
  return betterAuth({ ...options, plugins: [testUtils()] }).$context;
}

// One scrypt hash per password per isolate: hashing is what makes a sign-up cost.
const passwordHashes = new Map<string, Promise<string>>();

/**
 * A user as a sign-up leaves them (user row, credential account with a hashed
 * password, an open session), made through Better Auth's `testUtils` plugin
 * instead of the sign-up endpoint: no scrypt per user, which is most of a
 * sign-up's cost in workerd. {@link signIn} works with the returned password.
 * Use {@link signUp} where the sign-up itself is what the test is about.
 *
 * @example
 * ```ts
 * const carol = await signedInUser(`carol-${crypto.randomUUID()}@example.com`)
 * await callWorker("/api/billing/subscriptions", { cookie: carol.cookie })
 * ```
 */
export async function signedInUser(email: string, password = "correct-horse-battery-staple"): Promise<TestUser> {
  const ctx = await (testAuth ??= createTestAuth());
  let hash = passwordHashes.get(password);
  if (!hash) passwordHashes.set(password, (hash = hashPassword(password)));
  const user = await ctx.test.saveUser(ctx.test.createUser({ email, name: email.split("@")[0]!, emailVerified: false }));
  await ctx.internalAdapter.linkAccount({ userId: user.id, providerId: "credential", accountId: user.id, password: await hash });
  const { headers } = await ctx.test.login({ userId: user.id });
  return { id: user.id, email, password, ip: freshClientIp(), cookie: headers.get("cookie")! };
}
