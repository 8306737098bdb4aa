import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { experimental_readRawConfig, getPlatformProxy, unstable_readConfig } from "wrangler";
import { UsageError, type TargetOptions } from "./cli-flags";

const BINDING = "DB";

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
  assertEnvironmentExists(target);
  const remoteConfig = target.remote ? await writeRemoteConfig(target) : undefined;
  try {
    const proxy = await getPlatformProxy<{ DB: D1Database }>({
      configPath: remoteConfig?.path ?? target.config,
      environment: remoteConfig ? undefined : target.env,
      // Like `wrangler dev [--persist-to <dir>]`, which keeps D1 under <dir>/v3,
      // <dir> defaulting to .wrangler/state next to the config (not the cwd).
      persist: target.remote ? false : { path: path.join(target.persistTo ?? path.join(path.dirname(target.config), ".wrangler", "state"), "v3") },
      remoteBindings: target.remote,
      envFiles: [],
    });
    try {
      const database = proxy.env[BINDING];
      if (!database) throw new Error(`${target.config} has no D1 binding named ${BINDING} ([[d1_databases]] binding = "${BINDING}")`);
      return await callback(database);
    } finally {
      await proxy.dispose();
    }
  } finally {
    if (remoteConfig) await rm(remoteConfig.dir, { recursive: true, force: true });
  }
}

function assertEnvironmentExists({ config, env }: TargetOptions): void {
  if (env !== undefined && !experimental_readRawConfig({ config }).rawConfig.env?.[env]) {
    throw new UsageError(`${config} has no [env.${env}]; check --env`);
  }
}

/**
 * getPlatformProxy reaches Cloudflare only for bindings marked `remote`.
 * Rather than asking users to mark the binding (which would make `wrangler dev`
 * remote too), write a throwaway config holding just that binding, marked.
 */
async function writeRemoteConfig(target: TargetOptions): Promise<{ dir: string; path: string }> {
  const config = unstable_readConfig({ config: target.config, env: target.env });
  const binding = config.d1_databases.find((database: { binding: string }) => database.binding === BINDING);
  if (!binding?.database_id || /^0{8}-/.test(binding.database_id)) {
    // A setup step is missing, not a usage mistake: one line, no usage text.
    throw new Error(
      `${target.config} has no real database_id for the ${BINDING} binding${target.env ? ` in env '${target.env}'` : ""}; run 'wrangler d1 create <name>' and paste its id there`,
    );
  }
  const dir = await mkdtemp(path.join(tmpdir(), "kysely-migrate-remote-"));
  const configPath = path.join(dir, "wrangler.json");
  await writeFile(
    configPath,
    JSON.stringify({
      name: config.name,
      compatibility_date: config.compatibility_date,
      account_id: config.account_id,
      d1_databases: [{ ...binding, remote: true }],
    }),
  );
  return { dir, path: configPath };
}
