import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
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
  /** Which keys of `bytesByInput` are packages (`zod`, `@better-auth/core`). */
  packages: Set<string>;
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
 * nothing uploaded) into a temp dir, and measures them. `inject` (a module
 * path) is built into the full Worker as if `src/index.ts` imported it and
 * used all it exports: how a change would weigh before it is made.
 *
 * @example
 * ```ts
 * const { full, authOnly } = await measureBundles()
 * console.log(full.gzipBytes / authOnly.gzipBytes)
 * ```
 */
export async function measureBundles(projectDir = process.cwd(), options: { inject?: string } = {}): Promise<Bundles> {
  if (options.inject !== undefined && !(await isFile(path.resolve(projectDir, options.inject)))) {
    throw new Error(`--inject ${options.inject}: no such file; name a .ts or .js module, relative to ${projectDir}`);
  }
  const outDir = await mkdtemp(path.join(os.tmpdir(), "bundle-check-"));
  try {
    const fullEntry = options.inject === undefined ? undefined : await injectingEntry(projectDir, path.resolve(projectDir, options.inject), outDir);
    const [full, authOnly] = await Promise.all([
      build(projectDir, fullEntry, path.join(outDir, "full"), options.inject === undefined ? undefined : `the Worker with ${options.inject}`),
      build(projectDir, AUTH_ONLY_ENTRY, path.join(outDir, "auth-only")),
    ]);
    return { full, authOnly };
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
}

async function isFile(file: string): Promise<boolean> {
  return stat(file).then((found) => found.isFile(), () => false);
}

/** An entry that is the Worker plus every export of `module`, kept alive by re-exporting it. */
async function injectingEntry(projectDir: string, module: string, outDir: string): Promise<string> {
  const entry = path.join(outDir, "entry", "injected-worker.ts");
  await mkdir(path.dirname(entry));
  const source = [
    `export { default } from ${JSON.stringify(path.join(projectDir, "src/index.ts"))};`,
    `export * as injected from ${JSON.stringify(module)};`,
  ];
  await writeFile(entry, `${source.join("\n")}\n`);
  return entry;
}

async function build(projectDir: string, entry: string | undefined, outDir: string, label = entry ?? "the Worker"): Promise<BundleSize> {
  // wrangler's own JS on this Node (its bin shim is a shell script).
  const wranglerCli = createRequire(import.meta.url).resolve("wrangler");
  const metafile = path.join(outDir, "bundle-meta.json");
  const args = ["--no-warnings", wranglerCli, "deploy", ...(entry ? [entry] : []), "--config", path.join(projectDir, "wrangler.toml"), "--dry-run", "--minify", "--outdir", outDir, "--metafile", metafile];
  try {
    await promisify(execFile)(process.execPath, args, { cwd: projectDir, env: { ...process.env, WRANGLER_SEND_METRICS: "false" } });
  } catch (error) {
    // wrangler's own words (its ✘ [ERROR] lines and what follows them), not the whole command line and log.
    // wrangler colours its output even into a pipe.
    const stderr = String((error as { stderr?: unknown }).stderr ?? "").replace(/\u001b\[[0-9;]*m/g, "");
    const reason = stderr.slice(Math.max(0, stderr.indexOf("[ERROR]"))).split("\n").filter((line) => line.trim() !== "" && !line.includes("Logs were written")).slice(0, 6).join(" ").replace(/\s+/g, " ");
    throw new Error(`wrangler could not build ${label}: ${reason || (error as Error).message}`, { cause: error });
  }
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
    ...bytesByInput(meta.outputs, projectDir),
  };
}

/** An input's bytes in the output, node_modules files summed per package (`zod`, `@better-auth/core`). */
function bytesByInput(outputs: Record<string, { inputs: Record<string, { bytesInOutput: number }> }>, projectDir: string): Pick<BundleSize, "bytesByInput" | "packages"> {
  const bytes = new Map<string, number>();
  const packages = new Set<string>();
  for (const output of Object.values(outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const relative = path.relative(projectDir, path.resolve(projectDir, input));
      const packageName = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/.exec(relative)?.[1];
      if (packageName !== undefined) packages.add(packageName);
      const name = packageName ?? relative;
      bytes.set(name, (bytes.get(name) ?? 0) + bytesInOutput);
    }
  }
  return { bytesByInput: bytes, packages };
}
