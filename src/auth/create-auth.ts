import { betterAuth } from "better-auth";
import { refuseWhileMoneyInFlight } from "./refuse-while-money-in-flight";
import { ProjectD1Dialect } from "../db/d1-dialect";
import type { Env } from "../env";

/**
 * Better Auth's options for this Worker. `getMigrations()` reads the same
 * object, so the baseline migration is checked against exactly this config.
 */
export function authOptions(env: Env) {
  return {
    secret: env.BETTER_AUTH_SECRET,
    baseURL: env.BETTER_AUTH_URL,
    basePath: "/api/auth",
    database: { dialect: new ProjectD1Dialect({ database: env.DB }), type: "sqlite" as const },
    emailAndPassword: { enabled: true },
    // Refused while money may still move (docs/billing-lifecycle.md, "Deleting an account").
    user: { deleteUser: { enabled: true, beforeDelete: refuseWhileMoneyInFlight(env) } },
    // A Worker's memory is per isolate and short-lived, so counters live in D1.
    rateLimit: { enabled: true, storage: "database" as const },
    advanced: { ipAddress: { ipAddressHeaders: ["cf-connecting-ip"] } },
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
