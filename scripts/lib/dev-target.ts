import { UsageError, type TargetOptions } from "./cli-flags";

/**
 * The local database `wrangler dev` will serve for these `wrangler dev`
 * arguments (`--persist-to`, `--config`/`-c`, `--env`/`-e`, as `--flag value`
 * or `--flag=value`), so `pnpm dev` migrates that one and not another.
 *
 * @example
 * ```ts
 * devTarget(["--port", "8788", "--persist-to", "/tmp/dev"]) // { remote: false, persistTo: "/tmp/dev", env: undefined, config: "wrangler.toml" }
 * devTarget(["--remote"]) // throws UsageError: pnpm dev is local only
 * ```
 */
export function devTarget(wranglerArgs: readonly string[]): TargetOptions {
  // `wrangler dev --remote` serves Cloudflare's D1, but this would migrate the local one.
  if (wranglerArgs.some((arg) => arg === "--remote" || arg === "-r" || arg.startsWith("--remote="))) {
    throw new UsageError(
      "pnpm dev serves the local D1; for remote development run 'pnpm db:migrate:remote', then 'pnpm exec wrangler dev --remote'",
    );
  }
  const value = (...names: string[]): string | undefined => {
    let found: string | undefined;
    wranglerArgs.forEach((arg, index) => {
      const name = names.find((candidate) => arg === candidate || arg.startsWith(`${candidate}=`));
      if (name) found = arg === name ? wranglerArgs[index + 1] : arg.slice(name.length + 1);
    });
    return found;
  };
  return {
    remote: false,
    env: value("--env", "-e"),
    persistTo: value("--persist-to"),
    config: value("--config", "-c") ?? "wrangler.toml",
  };
}
