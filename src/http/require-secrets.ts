import { createMiddleware } from "hono/factory";
import { secretProblems } from "../config/secret-problems";
import type { Env } from "../env";
import { ApiError } from "./api-error";

// Checked once per bindings object (one per isolate), logged once.
const problemsByEnv = new WeakMap<Env, string[]>();

/**
 * Refuses to serve auth or billing with a missing, short or placeholder
 * secret: 500 SECRETS_NOT_CONFIGURED, and one log line per problem naming the
 * variable and how to fix it (the response names none: it goes to anyone).
 *
 * @example
 * ```ts
 * app.use("/api/*", requireSecrets)
 * ```
 */
export const requireSecrets = createMiddleware<{ Bindings: Env }>(async (c, next) => {
  let problems = problemsByEnv.get(c.env);
  if (!problems) {
    problems = secretProblems(c.env);
    problemsByEnv.set(c.env, problems);
    for (const problem of problems) {
      console.error(`refusing /api requests: ${problem}; set it with 'pnpm exec wrangler secret put' (locally: run pnpm dev, which repairs .dev.vars)`);
    }
  }
  if (problems.length > 0) throw new ApiError("SECRETS_NOT_CONFIGURED");
  await next();
});
