import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { experimental_readRawConfig } from "wrangler";
import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: [
      {
        // Worker, Better Auth and migrations inside workerd, on a real local D1.
        plugins: [
          cloudflareTest({
            // wrangler.toml's copy in a directory with no .dev.vars: the bindings below are the only secrets.
            wrangler: { configPath: hermeticWranglerConfig("wrangler.toml", "node_modules/.cache/test-wrangler") },
            miniflare: {
              bindings: {
                BETTER_AUTH_SECRET: "test-secret-that-is-at-least-32-characters-long",
                // Billing test secrets (never used outside tests): two token keys so rotation is exercised.
                TOKEN_ENCRYPTION_KEYS:
                  "k2:OCkZxhsZYBOH+j4UQmiIQuZue0icYgS5WZZfJ5u2E/o=,k1:u2z+GJPCgygIE1LAYQDO9Dq/++O4Uk8sC0Fi9yCLWwQ=",
                TOKEN_FINGERPRINT_KEY: "d+riBOOw1/5WvP2hKUZ0nsJvwRclScFn7aoog8Rz8ek=",
                WEBHOOK_SECRET_GOCARDLESS: "whsec_test_gocardless_0123456789abcdef",
                BILLING_OPERATOR_EMAILS: "operator@example.com",
              },
            },
          }),
        ],
        test: { name: "worker", include: ["test/worker/**/*.test.ts"] },
      },
      {
        // The CLI scripts, run as a user runs them: a Node process against a temp --persist-to.
        test: { name: "cli", include: ["test/cli/**/*.test.ts"], environment: "node", testTimeout: 60_000 },
      },
      {
        // Pure modules: plain Node, no workerd, no database, no subprocess.
        test: { name: "unit", include: ["test/unit/**/*.test.ts"], environment: "node" },
      },
    ],
  },
});

/**
 * A copy of `configPath` (as JSON, paths made absolute) in a directory of its
 * own, for the worker test pool: wrangler loads `.dev.vars` / `.env` from the
 * config's directory, so pointing the pool at wrangler.toml itself would hand
 * every test the developer's local secrets. The pool sets its own bindings.
 *
 * @returns the path of the copy.
 * @example
 * ```ts
 * cloudflareTest({ wrangler: { configPath: hermeticWranglerConfig("wrangler.toml", "node_modules/.cache/test-wrangler") } })
 * ```
 */
function hermeticWranglerConfig(configPath: string, outDir: string): string {
  const root = path.dirname(path.resolve(configPath));
  const { rawConfig } = experimental_readRawConfig({ config: configPath });
  const copy = {
    ...rawConfig,
    ...(rawConfig.main && { main: path.resolve(root, rawConfig.main) }),
    ...(rawConfig.assets?.directory && { assets: { ...rawConfig.assets, directory: path.resolve(root, rawConfig.assets.directory) } }),
  };
  mkdirSync(outDir, { recursive: true });
  const out = path.join(outDir, "wrangler.json");
  writeFileSync(out, JSON.stringify(copy, null, 2));
  return out;
}
