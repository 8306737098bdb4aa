import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { loadWrangler } from "../../scripts/lib/load-wrangler";

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
export function hermeticWranglerConfig(configPath: string, outDir: string): string {
  const root = path.dirname(path.resolve(configPath));
  const { rawConfig } = loadWrangler().experimental_readRawConfig({ config: configPath });
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
