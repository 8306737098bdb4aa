import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";

/** One Worker bundle as `wrangler deploy --dry-run --minify` writes it. */
export interface BundleSize {
  entry: string;
  minifiedBytes: number;
  gzipBytes: number;
  /** Every input file the bundle holds, from its source map, relative to the project. */
  sources: string[];
  /** Minified bytes each input contributes, from esbuild's metafile: `src/…` files, and packages by name. */
  bytesByInput: Map<string, number>;
}

/** The Worker with billing (wrangler.toml's `main`) and the same Worker without billing. */
export interface Bundles {
  full: BundleSize;
  authOnly: BundleSize;
}

/** The entry that mounts only Better Auth, the health check and the error handler. */
export const AUTH_ONLY_ENTRY = "scripts/bundle/auth-only-worker.ts";

/**
 * Builds both Workers exactly as `wrangler deploy` would (bundled, minified,
 * nothing uploaded) into a temp dir, and measures them.
 *
 * @example
 * ```ts
 * const { full, authOnly } = await measureBundles()
 * console.log(full.gzipBytes / authOnly.gzipBytes)
 * ```
 */
export async function measureBundles(projectDir = process.cwd()): Promise<Bundles> {
  const outDir = await mkdtemp(path.join(os.tmpdir(), "bundle-check-"));
  try {
    const [full, authOnly] = await Promise.all([
      build(projectDir, undefined, path.join(outDir, "full")),
      build(projectDir, AUTH_ONLY_ENTRY, path.join(outDir, "auth-only")),
    ]);
    return { full, authOnly };
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
}

async function build(projectDir: string, entry: string | undefined, outDir: string): Promise<BundleSize> {
  // wrangler's own JS on this Node (its bin shim is a shell script).
  const wranglerCli = createRequire(import.meta.url).resolve("wrangler");
  const metafile = path.join(outDir, "bundle-meta.json");
  const args = ["--no-warnings", wranglerCli, "deploy", ...(entry ? [entry] : []), "--dry-run", "--minify", "--outdir", outDir, "--metafile", metafile];
  await promisify(execFile)(process.execPath, args, { cwd: projectDir, env: { ...process.env, WRANGLER_SEND_METRICS: "false" } });
  const file = (await readdir(outDir)).find((name) => name.endsWith(".js"));
  const meta = JSON.parse(await readFile(metafile, "utf8")) as { outputs: Record<string, { inputs: Record<string, { bytesInOutput: number }> }> };
  if (!file) throw new Error(`wrangler wrote no .js bundle into ${outDir}`);
  const code = await readFile(path.join(outDir, file));
  const map = JSON.parse(await readFile(path.join(outDir, `${file}.map`), "utf8")) as { sources: string[] };
  return {
    entry: entry ?? "wrangler.toml main",
    minifiedBytes: code.length,
    gzipBytes: gzipSync(code).length,
    sources: map.sources.map((source) => path.relative(projectDir, path.resolve(outDir, source))),
    bytesByInput: bytesByInput(meta.outputs, projectDir),
  };
}

/** An input's bytes in the output, node_modules files summed per package (`zod`, `@better-auth/core`). */
function bytesByInput(outputs: Record<string, { inputs: Record<string, { bytesInOutput: number }> }>, projectDir: string): Map<string, number> {
  const bytes = new Map<string, number>();
  for (const output of Object.values(outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const relative = path.relative(projectDir, path.resolve(projectDir, input));
      const name = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/.exec(relative)?.[1] ?? relative;
      bytes.set(name, (bytes.get(name) ?? 0) + bytesInOutput);
    }
  }
  return bytes;
}
