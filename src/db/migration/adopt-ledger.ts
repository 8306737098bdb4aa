import { DEFAULT_MIGRATION_LOCK_TABLE, DEFAULT_MIGRATION_TABLE, MIGRATION_LOCK_ID } from "kysely/migration";
import { LEDGER_VERSION_ROW, type BufferedStatement } from "./batched-d1-dialect";
import type { OldLedger } from "./plan-adoption";
import { quoteIdentifier } from "./sql-identifier";

/** drizzle-orm's ledger table (its `migrate()` default). */
export const DRIZZLE_LEDGER_TABLE = "__drizzle_migrations";

/**
 * The old ledgers in the database: wrangler's `table` (its `migrations_table`)
 * and drizzle-orm's `__drizzle_migrations`, each when it exists. Reads only.
 *
 * @example
 * ```ts
 * await readOldLedgers(env.DB, "d1_migrations") // [{ kind: "wrangler", table: "d1_migrations", names: ["0000_init.sql"] }]
 * ```
 */
export async function readOldLedgers(database: D1Database, table: string): Promise<OldLedger[]> {
  const ledgers: OldLedger[] = [];
  if (await tableExists(database, table)) {
    const { results } = await database.prepare(`select "name" from ${quoteIdentifier(table)} order by "id"`).all<{ name: string }>();
    ledgers.push({ kind: "wrangler", table, names: results.map((row) => row.name) });
  }
  if (table !== DRIZZLE_LEDGER_TABLE && (await tableExists(database, DRIZZLE_LEDGER_TABLE))) {
    const { results } = await database.prepare(`select "hash" from "${DRIZZLE_LEDGER_TABLE}" order by "id"`).all<{ hash: string }>();
    ledgers.push({ kind: "drizzle", table: DRIZZLE_LEDGER_TABLE, hashes: results.map((row) => row.hash) });
  }
  return ledgers;
}

/**
 * The runner's ledger version as `applyBatch` frames runs with it (see
 * `LEDGER_VERSION_ROW`): undefined before the runner's first contact.
 */
export async function readLedgerVersion(database: D1Database): Promise<number | undefined> {
  if (!(await tableExists(database, DEFAULT_MIGRATION_LOCK_TABLE))) return undefined;
  const row = await database
    .prepare(`select "is_locked" from "${DEFAULT_MIGRATION_LOCK_TABLE}" where "id" = ?`)
    .bind(LEDGER_VERSION_ROW)
    .first<{ is_locked: number }>();
  return row ? Number(row.is_locked) : undefined;
}

/**
 * The batch that records `names` as applied in Kysely's ledger without running
 * them: the ledger tables as Kysely creates them (if missing), one row per
 * migration with ISO-8601 timestamps increasing by a millisecond in registry
 * order (Kysely orders applied migrations by timestamp, then checks the names),
 * `bookkeeping` (checksums), and the ledger version: created, or checked and
 * bumped, so a concurrent run or adopt makes the whole batch fail.
 *
 * @example
 * ```ts
 * await database.batch(adoptionStatements(["0000_init"], new Date(), await readLedgerVersion(database), []).map(prepare))
 * ```
 */
export function adoptionStatements(
  names: readonly string[],
  now: Date,
  ledgerVersion: number | undefined,
  bookkeeping: readonly BufferedStatement[],
): BufferedStatement[] {
  const lock = `"${DEFAULT_MIGRATION_LOCK_TABLE}"`;
  return [
    {
      sql: `create table if not exists "${DEFAULT_MIGRATION_TABLE}" ("name" varchar(255) not null primary key, "timestamp" varchar(255) not null)`,
      parameters: [],
    },
    { sql: `create table if not exists ${lock} ("id" varchar(255) not null primary key, "is_locked" integer default 0 not null)`, parameters: [] },
    { sql: `insert into ${lock} ("id", "is_locked") values (?, 0) on conflict do nothing`, parameters: [MIGRATION_LOCK_ID] },
    // Before the first contact there is no version row: inserting it fails if
    // another run created it meanwhile. Else the same compare-and-swap as applyBatch's.
    ...(ledgerVersion === undefined
      ? []
      : [
          {
            sql: `insert into ${lock} ("id", "is_locked") select ?, 0 where (select "is_locked" from ${lock} where "id" = ?) is not ?`,
            parameters: [LEDGER_VERSION_ROW, LEDGER_VERSION_ROW, ledgerVersion],
          },
        ]),
    ...names.map((name, index) => ({
      sql: `insert into "${DEFAULT_MIGRATION_TABLE}" ("name", "timestamp") values (?, ?)`,
      parameters: [name, new Date(now.getTime() + index).toISOString()],
    })),
    ...bookkeeping,
    ledgerVersion === undefined
      ? { sql: `insert into ${lock} ("id", "is_locked") values (?, 1)`, parameters: [LEDGER_VERSION_ROW] }
      : { sql: `update ${lock} set "is_locked" = ? where "id" = ?`, parameters: [ledgerVersion + 1, LEDGER_VERSION_ROW] },
  ];
}

async function tableExists(database: D1Database, table: string): Promise<boolean> {
  return (await database.prepare(`select 1 from sqlite_master where type = 'table' and name = ?`).bind(table).first()) !== null;
}
