import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { UsageError, type TargetOptions } from "./cli-flags";
import { fewerRoundTrips } from "./fewer-round-trips";
import { loadWrangler } from "./load-wrangler";
import { retryWhenBusy, whileBusy } from "./retry-when-busy";

const BINDING = "DB";
const STOP_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
const SIGNAL_NUMBERS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 };

/**
 * Opens the `DB` binding through wrangler's `getPlatformProxy()`, runs
 * `callback`, and always disposes the proxy so the process can exit.
 *
 * Local: the same Miniflare state `wrangler dev` uses (or `--persist-to`).
 * Remote: the Cloudflare D1 from the config, through wrangler's remote bindings.
 * An `--env` the config does not define is a {@link UsageError}: wrangler
 * would silently fall back to the top-level (production) binding.
 *
 * @example
 * ```ts
 * await usingD1(target, (db) => runMigrations(db, { verb: "latest" }, { migrations }))
 * ```
 */
export async function usingD1<T>(target: TargetOptions, callback: (db: D1Database) => Promise<T>): Promise<T> {
  const wrangler = loadWrangler();
  assertEnvironmentExists(wrangler, target);
  if (sharedProxies && !target.remote) return callback(await sharedLocalD1(wrangler, target, sharedProxies));
  const bindingConfig = await writeBindingConfig(wrangler, target);
  // The proxy's workerd is a child process: on a catchable signal, stop it
  // before exiting, or it outlives the CLI (and may still apply a batch). The
  // handlers go first, as workerd starts before getPlatformProxy resolves.
  let proxy: Awaited<ReturnType<typeof wrangler.getPlatformProxy<{ DB: D1Database }>>> | undefined;
  let interrupted: NodeJS.Signals | undefined;
  const exit = (signal: NodeJS.Signals) =>
    void (proxy?.dispose() ?? Promise.resolve()).finally(() => process.exit(128 + (SIGNAL_NUMBERS[signal] ?? 1)));
  const stop = (signal: NodeJS.Signals) => {
    console.error(
      `interrupted by ${signal}: stopped the local database process; if a run was being sent, its outcome is unknown: check with \`kysely:migrate list\``,
    );
    interrupted = signal;
    if (proxy) exit(signal);
  };
  for (const signal of STOP_SIGNALS) process.once(signal, stop);
  try {
    const options = { configPath: bindingConfig.path, persist: target.remote ? false as const : { path: localPersistPath(target) }, remoteBindings: target.remote };
    proxy = await whileBusy(() => wrangler.getPlatformProxy<{ DB: D1Database }>(options));
    if (interrupted) {
      exit(interrupted);
      return await new Promise<never>(() => {});
    }
    try {
      // Local: another process (a second run, wrangler dev) may hold the file; wait for it.
      return await callback(target.remote ? proxy.env.DB : retryWhenBusy(fewerRoundTrips(proxy.env.DB)));
    } finally {
      await proxy.dispose();
    }
  } finally {
    for (const signal of STOP_SIGNALS) process.off(signal, stop);
    await rm(bindingConfig.dir, { recursive: true, force: true });
  }
}

type Wrangler = typeof import("wrangler");
type Proxy = Awaited<ReturnType<Wrangler["getPlatformProxy"]>>;

let sharedProxies: Map<string, Promise<{ proxy: Proxy; dir: string }>> | undefined;

/**
 * For tests where the process boundary is not what is tested: until the
 * returned function is called, every local `usingD1` on the same state
 * directory and config reuses one proxy (one workerd) instead of starting and
 * disposing its own, which costs about 0.4 s of CPU (Node and workerd) each
 * time. The SQLite files stay readable and writable by other processes
 * meanwhile. Remote targets are never shared.
 *
 * @example
 * ```ts
 * const stopSharing = shareLocalD1Proxies()
 * try { await kyselyMigrate(["latest", "--persist-to", dir], io) } finally { await stopSharing() }
 * ```
 */
export function shareLocalD1Proxies(): () => Promise<void> {
  const proxies = new Map<string, Promise<{ proxy: Proxy; dir: string }>>();
  sharedProxies = proxies;
  return async () => {
    if (sharedProxies === proxies) sharedProxies = undefined;
    await disposeAll(proxies);
  };
}

/**
 * Stops the proxies {@link shareLocalD1Proxies} keeps open (sharing goes on;
 * the next `usingD1` opens a new one), so that another process, such as the
 * CLI run as a subprocess, is the only workerd on those files.
 */
export async function closeSharedLocalD1Proxies(): Promise<void> {
  if (sharedProxies) await disposeAll(sharedProxies);
}

async function disposeAll(proxies: NonNullable<typeof sharedProxies>): Promise<void> {
  const opened = [...proxies.values()];
  proxies.clear();
  for (const result of await Promise.allSettled(opened)) {
    if (result.status !== "fulfilled") continue;
    await result.value.proxy.dispose();
    await rm(result.value.dir, { recursive: true, force: true });
  }
}

async function sharedLocalD1(wrangler: Wrangler, target: TargetOptions, proxies: NonNullable<typeof sharedProxies>): Promise<D1Database> {
  const persist = localPersistPath(target);
  const key = JSON.stringify([path.resolve(persist), path.resolve(target.config), target.env ?? null]);
  let opened = proxies.get(key);
  if (!opened) {
    opened = (async () => {
      const bindingConfig = await writeBindingConfig(wrangler, target);
      const proxy = await whileBusy(() => wrangler.getPlatformProxy({ configPath: bindingConfig.path, persist: { path: persist } }));
      return { proxy, dir: bindingConfig.dir };
    })();
    proxies.set(key, opened);
    // A proxy that failed to start is not kept: the next call tries again.
    opened.catch(() => proxies.get(key) === opened && proxies.delete(key));
  }
  return retryWhenBusy(fewerRoundTrips(((await opened).proxy.env as { DB: D1Database }).DB));
}

/** Like `wrangler dev [--persist-to <dir>]`: D1 under <dir>/v3, <dir> defaulting to .wrangler/state next to the config (not the cwd). */
function localPersistPath(target: TargetOptions): string {
  return path.join(target.persistTo ?? path.join(path.dirname(target.config), ".wrangler", "state"), "v3");
}

function assertEnvironmentExists(wrangler: Wrangler, { config, env }: TargetOptions): void {
  if (env !== undefined && !wrangler.experimental_readRawConfig({ config }).rawConfig.env?.[env]) {
    throw new UsageError(`${config} has no [env.${env}]; check --env`);
  }
}

/**
 * The scripts need the D1 binding and nothing else, so getPlatformProxy gets a
 * throwaway config holding just that binding, in an empty temp directory:
 * - wrangler reads `.dev.vars`/`.env` next to the config it is given (even with
 *   `envFiles: []`) and prints "Using secrets defined in .dev.vars"; an empty
 *   directory has none, so no script depends on the developer's secrets;
 * - getPlatformProxy reaches Cloudflare only for bindings marked `remote`;
 *   marking it here, rather than asking users to mark it in wrangler.toml
 *   (which would make `wrangler dev` remote too), keeps `--remote` explicit.
 * The binding's `database_id` is kept: the local D1 file is named after it.
 */
async function writeBindingConfig(wrangler: Wrangler, target: TargetOptions): Promise<{ dir: string; path: string }> {
  const config = wrangler.unstable_readConfig({ config: target.config, env: target.env });
  const binding = config.d1_databases.find((database: { binding: string }) => database.binding === BINDING);
  if (!binding) throw new Error(`${target.config} has no D1 binding named ${BINDING} ([[d1_databases]] binding = "${BINDING}")`);
  if (target.remote && (!binding.database_id || /^0{8}-/.test(binding.database_id))) {
    // A setup step is missing, not a usage mistake: one line, no usage text.
    throw new Error(
      `${target.config} has no real database_id for the ${BINDING} binding${target.env ? ` in env '${target.env}'` : ""}; run 'wrangler d1 create <name>' and paste its id there`,
    );
  }
  const dir = await mkdtemp(path.join(tmpdir(), "d1-binding-config-"));
  const configPath = path.join(dir, "wrangler.json");
  await writeFile(
    configPath,
    JSON.stringify({
      name: config.name,
      compatibility_date: config.compatibility_date,
      account_id: config.account_id,
      d1_databases: [target.remote ? { ...binding, remote: true } : binding],
    }),
  );
  return { dir, path: configPath };
}
