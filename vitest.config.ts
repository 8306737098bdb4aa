import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: [
      {
        // Worker, Better Auth and migrations inside workerd, on a real local D1.
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./wrangler.toml" },
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
        // Pure domain modules (no database, no Worker): plain Node, well under a second.
        test: { name: "unit", include: ["test/unit/**/*.test.ts"], environment: "node" },
      },
    ],
  },
});
