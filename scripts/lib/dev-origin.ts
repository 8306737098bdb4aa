import { UsageError } from "./cli-flags";

/** wrangler dev's own default port (wrangler.toml sets no [dev] port). */
const DEFAULT_PORT = 8787;
/** Addresses that mean "every interface": a browser cannot open them. */
const WILDCARD_IPS = new Set(["0.0.0.0", "::", "*", "localhost", "127.0.0.1"]);

/**
 * `wrangler dev --var` flags that make Better Auth trust the origin `pnpm dev`
 * actually serves (`--port`, `--ip`), so a browser app on another port is not
 * refused: BETTER_AUTH_URL becomes `http://localhost:<port>` and
 * `http://127.0.0.1:<port>` (and `--ip`'s address) become trusted origins.
 * They exist only for this dev server: wrangler.toml and production are
 * untouched. Nothing is added when the developer sets BETTER_AUTH_URL with
 * `--var` themselves.
 *
 * @example
 * ```ts
 * devAuthVars(["--port", "8788"]) // ["--var", "BETTER_AUTH_URL:http://localhost:8788", "--var", "BETTER_AUTH_TRUSTED_ORIGINS:http://127.0.0.1:8788"]
 * ```
 */
export function devAuthVars(wranglerArgs: readonly string[]): string[] {
  const vars = values(wranglerArgs, "--var");
  if (vars.some((value) => value.startsWith("BETTER_AUTH_URL:"))) return [];
  const portText = values(wranglerArgs, "--port").at(-1);
  const port = portText === undefined ? DEFAULT_PORT : Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError("--port must be a number from 1 to 65535");
  const ip = values(wranglerArgs, "--ip").at(-1);
  const trusted = [`http://127.0.0.1:${port}`];
  if (ip !== undefined && !WILDCARD_IPS.has(ip)) trusted.push(`http://${ip.includes(":") ? `[${ip}]` : ip}:${port}`);
  return ["--var", `BETTER_AUTH_URL:http://localhost:${port}`, "--var", `BETTER_AUTH_TRUSTED_ORIGINS:${trusted.join(",")}`];
}

/** Every value of `--flag value` / `--flag=value` in `args`, in order. */
function values(args: readonly string[], flag: string): string[] {
  return args.flatMap((arg, index) =>
    arg === flag && args[index + 1] !== undefined ? [args[index + 1]!] : arg.startsWith(`${flag}=`) ? [arg.slice(flag.length + 1)] : [],
  );
}
