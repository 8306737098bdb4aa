import { defineConfig } from "vitest/config";

// `pnpm test:load`, CI's load check: a timed load on `wrangler dev` that
// needs the machine to itself, so it is not part of `pnpm test` (whose files
// run two at a time) and runs as a step of its own after it.
export default defineConfig({
  test: {
    name: "load",
    include: ["test/load/**/*.test.ts"],
    environment: "node",
    testTimeout: 60_000,
    hookTimeout: 300_000,
    // Node's compile cache, shared with the CLI project: wrangler's bundle compiled once.
    setupFiles: ["test/cli/compile-cache.ts"],
  },
});
