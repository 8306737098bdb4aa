import type { Migration } from "kysely/migration";
import { listMigrations } from "../../src/db/migration/list-migrations";
import type { TargetOptions } from "./cli-flags";

/**
 * Refuses to go on when the database lacks any registered migration, with the
 * command that fixes it (same target flags), instead of letting a later query
 * fail with "no such table". Reads only.
 *
 * @example
 * ```ts
 * await usingD1(target, async (d1) => { await requireMigrated(d1, migrations, target); … })
 * ```
 */
export async function requireMigrated(d1: D1Database, migrations: Record<string, Migration>, target: TargetOptions): Promise<void> {
  const pending = (await listMigrations(d1, migrations)).filter((migration) => !migration.executedAt).map((migration) => migration.name);
  if (pending.length === 0) return;
  throw new Error(`the database is not migrated to latest (pending: ${pending.join(", ")}); run '${migrateCommand(target)}' first`);
}

/** `pnpm kysely:migrate latest` with the flags that reach the same database. */
function migrateCommand(target: TargetOptions): string {
  const flags = [
    target.remote ? "--remote" : undefined,
    target.env !== undefined ? `--env ${target.env}` : undefined,
    target.persistTo !== undefined ? `--persist-to ${target.persistTo}` : undefined,
    target.config !== "wrangler.toml" ? `--config ${target.config}` : undefined,
  ].filter(Boolean);
  return ["pnpm kysely:migrate latest", ...flags].join(" ");
}
