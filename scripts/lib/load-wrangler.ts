import { createRequire } from "node:module";

/**
 * wrangler's API, loaded with `require`. wrangler ships as one ~10 MB
 * CommonJS file: `import("wrangler")` makes Node scan all of it for export
 * names before running it (cjs-module-lexer), about 0.5 s of CPU per process
 * that `require` does not spend. Call it where wrangler is needed, not at the
 * top of a module: loading it still costs about a second of CPU, which a
 * command that fails on its arguments (or only makes a file) never needs.
 *
 * @example
 * ```ts
 * const { unstable_readConfig } = loadWrangler()
 * ```
 */
export function loadWrangler(): typeof import("wrangler") {
  return createRequire(import.meta.url)("wrangler") as typeof import("wrangler");
}
