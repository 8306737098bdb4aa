import { readOldLedgers } from "../../src/db/migration/adopt-ledger";
import { readAppliedMigrations } from "../../src/db/migration/migration-checksums";
import { RunRefusedError } from "./run-refused-error";

/**
 * The refusal for a run on a database another tool migrated and the runner
 * has not adopted: its old ledger (wrangler's `table`, or drizzle-orm's) lists
 * migrations while the runner's lists none. Undefined otherwise. Reads only.
 *
 * @example
 * ```ts
 * const refusal = await unadoptedLedgerRefusal(db, "d1_migrations")
 * ```
 */
export async function unadoptedLedgerRefusal(database: D1Database, table: string): Promise<RunRefusedError | undefined> {
  if ((await readAppliedMigrations(database)).length > 0) return undefined;
  for (const ledger of await readOldLedgers(database, table)) {
    const count = ledger.kind === "wrangler" ? ledger.names.length : ledger.hashes.length;
    if (count === 0) continue;
    return new RunRefusedError([
      `error: ${ledger.table} lists ${count} migration(s) applied by another tool and the runner's ledger lists none: running them again would fail or apply them twice`,
      `  to proceed: 'pnpm kysely:migrate adopt' records them as applied first (docs/migrations.md, "Coming from wrangler or drizzle-kit")`,
    ]);
  }
  return undefined;
}
