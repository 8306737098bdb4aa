import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { hermeticWranglerConfig } from "./test/support/hermetic-wrangler-config.ts";
import ProjectOrderSequencer from "./test/support/project-order-sequencer.ts";

const testWranglerConfig = hermeticWranglerConfig("wrangler.toml", "node_modules/.cache/test-wrangler");

// Worker, Better Auth and migrations inside workerd, on a real local D1 (a plugin per project: it keeps per-project state).
const workerPool = () =>
  cloudflareTest({
    // wrangler.toml's copy in a directory with no .dev.vars: the bindings below are the only secrets.
    wrangler: { configPath: testWranglerConfig },
    miniflare: {
      // An empty D1 the migration analyser copies schemas into (test/support/run-migrations.ts).
      d1Databases: ["MIGRATION_SCRATCH"],
      bindings: {
        BETTER_AUTH_SECRET: "test-secret-that-is-at-least-32-characters-long",
        // Billing test secrets (never used outside tests): two token keys so rotation is exercised.
        TOKEN_ENCRYPTION_KEYS:
          "k2:OCkZxhsZYBOH+j4UQmiIQuZue0icYgS5WZZfJ5u2E/o=,k1:u2z+GJPCgygIE1LAYQDO9Dq/++O4Uk8sC0Fi9yCLWwQ=",
        TOKEN_FINGERPRINT_KEY: "d+riBOOw1/5WvP2hKUZ0nsJvwRclScFn7aoog8Rz8ek=",
        WEBHOOK_SECRET_GOCARDLESS: "whsec_test_gocardless_0123456789abcdef",
        // Only the fake GoCardless (test/support/gocardless/fake-gocardless.ts) ever sees it.
        GOCARDLESS_ACCESS_TOKEN: "sandbox_test_token",
        BILLING_OPERATOR_EMAILS: "operator@example.com",
      },
    },
  });

/** `COUNT_D1_CALLS=1`: each worker file prints its D1 round trips (test/support/count-d1-calls.ts). */
const countD1Calls = process.env.COUNT_D1_CALLS ? ["test/support/count-d1-calls.ts"] : [];

/** Worker test files that need an isolate nothing ran in before them. */
const FRESH_ISOLATE_FILES = ["test/worker/session-under-load.test.ts"];

export default defineConfig({
  test: {
    // Much of the CLI files' time is spent waiting on workerd and child
    // processes, so two files run at once even on 2 cores (vitest's default
    // there is one file at a time).
    maxWorkers: 2,
    sequence: { sequencer: ProjectOrderSequencer },
    projects: [
      {
        plugins: [workerPool()],
        // Better Auth's scrypt costs about a second per sign-up on an idle core; a loaded machine needs room.
        test: {
          name: "worker",
          include: ["test/worker/**/*.test.ts"],
          exclude: FRESH_ISOLATE_FILES,
          // One workerd per vitest worker, running its files one after another,
          // instead of a workerd per file (~1.3 s start-up each). The plugin
          // (1.5.0, vitest 4+) has no per-file storage isolation, so the setup
          // file gives each file empty D1 databases; module state is shared, so
          // files must not rely on it (no vi.mock; restore spies and timers).
          isolate: false,
          setupFiles: [...countD1Calls, "test/support/empty-d1-per-file.ts"],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        plugins: [workerPool()],
        // Files about what a new isolate does (Better Auth's first use): a workerd of their own.
        test: {
          name: "worker-fresh-isolate",
          include: FRESH_ISOLATE_FILES,
          setupFiles: countD1Calls,
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        // The CLI scripts, run as a user runs them: a Node process against a temp --persist-to.
        test: {
          name: "cli",
          include: ["test/cli/**/*.test.ts"],
          environment: "node",
          // One module graph per worker process, not per file: wrangler alone
          // costs ~4.5 s of CPU to import, and every file that opens a local
          // D1 needs it. Files must not rely on module state (vi.stubEnv is
          // undone by vi.unstubAllEnvs; no vi.mock of shared modules).
          isolate: false,
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // Every CLI run reads the migration checksum cache: fill it once, beside the first files.
          globalSetup: ["test/cli/warm-checksum-cache.ts"],
          // Node's compile cache for this worker and the CLI processes it
          // starts; then wait for the checksum cache the global setup fills.
          setupFiles: ["test/cli/compile-cache.ts", "test/cli/await-checksum-cache.ts"],
        },
      },
      {
        // Pure modules: plain Node, no workerd, no database, no subprocess.
        test: { name: "unit", include: ["test/unit/**/*.test.ts"], environment: "node", isolate: false },
      },
    ],
  },
});

