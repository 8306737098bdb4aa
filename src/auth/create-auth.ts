import { betterAuth } from "better-auth";
import { refuseWhileMoneyInFlight } from "./refuse-while-money-in-flight";
import { ProjectD1Dialect } from "../db/d1-dialect";
import type { Env } from "../env";

/** How long a signed-in request trusts the session cookie cache before reading D1 again. */
export const SESSION_CACHE_MAX_AGE_SECONDS = 60;

/**
 * Better Auth's options for this Worker. `getMigrations()` reads the same
 * object, so the baseline migration is checked against exactly this config.
 */
export function authOptions(env: Env) {
  return {
    secret: env.BETTER_AUTH_SECRET,
    baseURL: env.BETTER_AUTH_URL,
    // BETTER_AUTH_URL's origin is always trusted; these are the other ones (a browser app elsewhere, pnpm dev's 127.0.0.1).
    trustedOrigins: env.BETTER_AUTH_TRUSTED_ORIGINS?.split(",").map((origin) => origin.trim()).filter(Boolean) ?? [],
    basePath: "/api/auth",
    database: { dialect: new ProjectD1Dialect({ database: env.DB }), type: "sqlite" as const },
    emailAndPassword: { enabled: true },
    // Refused while money may still move (docs/billing-lifecycle.md, "Deleting an account").
    user: { deleteUser: { enabled: true, beforeDelete: refuseWhileMoneyInFlight(env) } },
    // A signed copy of the session and user in a cookie: a signed-in request
    // checks it without reading D1, and reads D1 again once it is older than
    // maxAge. So a revoked session, a changed e-mail verification (the
    // operator check) or a deleted user takes up to maxAge to apply
    // (docs/performance.md).
    session: { cookieCache: { enabled: true, maxAge: SESSION_CACHE_MAX_AGE_SECONDS } },
    // A Worker's memory is per isolate and short-lived, so counters live in D1.
    // Reads that only look at the caller's own session are not limited: a
    // limit there would cost a D1 write on every page load and stop nothing.
    rateLimit: {
      enabled: true,
      storage: "database" as const,
      customRules: { "/get-session": false as const, "/list-sessions": false as const },
    },
    advanced: {
      ipAddress: { ipAddressHeaders: ["cf-connecting-ip"] },
      // A session lookup that misses the cookie cache reads session and user in one query.
      database: { joins: true },
    },
  };
}

export type Auth = ReturnType<typeof betterAuth<ReturnType<typeof authOptions>>>;

// One instance per bindings object: the same isolate serves many requests.
const authByEnv = new WeakMap<Env, Auth>();

/**
 * The Better Auth instance for these bindings, created once per isolate.
 *
 * @example
 * ```ts
 * const session = await getAuth(c.env).api.getSession({ headers: c.req.raw.headers })
 * ```
 */
export function getAuth(env: Env): Auth {
  let auth = authByEnv.get(env);
  if (!auth) {
    auth = betterAuth(authOptions(env));
    authByEnv.set(env, auth);
  }
  return auth;
}
