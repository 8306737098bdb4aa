import { DEFAULT_MIGRATION_LOCK_TABLE } from "kysely/migration";
import { LEDGER_VERSION_ROW, type BufferedRun, type BufferedStatement } from "./batched-d1-dialect";
import type { CountedTable } from "./find-destructive-changes";
import { quoteIdentifier } from "./sql-identifier";

/** A statement of the run failed; D1 rolled the whole batch back. */
export class BatchStatementError extends Error {
  constructor(
    /** 0-based position of the failing statement within the run. */
    readonly statementIndex: number,
    readonly statement: BufferedStatement,
    /** D1's own message. */
    readonly databaseMessage: string,
  ) {
    super(`statement #${statementIndex + 1} failed: ${databaseMessage}`);
    this.name = "BatchStatementError";
  }
}

/** Another run committed migrations after this run read the ledger; nothing of this run was applied. */
export class LedgerChangedError extends Error {
  constructor() {
    super("another migration run changed the database while this run was planned; nothing was applied");
    this.name = "LedgerChangedError";
  }
}

/**
 * A table the run drops no longer holds the rows the destructive-change guard
 * counted (and a forced run backed up): the app wrote to it after the count.
 * Nothing of the run was applied.
 */
export class RowsChangedError extends Error {
  constructor(
    readonly table: string,
    /** The rows counted before the batch was sent. */
    readonly countedRows: number,
  ) {
    super(`table "${table}" changed while this run was being applied (${countedRows} row(s) counted); nothing was applied — run again`);
    this.name = "RowsChangedError";
  }
}

/**
 * Applies a buffered migration run as one atomic `D1Database.batch()`.
 *
 * The batch is framed by an optimistic-lock check (fails if another run
 * committed since this one read the ledger), then a check per `counted` table
 * (fails if it no longer holds the counted rows), and ends with a version
 * bump; `bookkeeping` (the caller's own writes, such as migration checksums)
 * goes right before the bump. On failure nothing is applied, and the error
 * says which statement or check failed.
 *
 * @example
 * ```ts
 * await applyBatch(env.DB, run, [{ table: "rateLimit", rows: 0 }]) // throws BatchStatementError | LedgerChangedError | RowsChangedError
 * ```
 */
export async function applyBatch(
  database: D1Database,
  run: BufferedRun,
  counted: readonly CountedTable[] = [],
  bookkeeping: readonly BufferedStatement[] = [],
): Promise<void> {
  if (run.statements.length === 0 && bookkeeping.length === 0) return;
  // The checks go first, not before each drop: the batch is one transaction,
  // so at its start only the app can have changed a table since the count,
  // while right before a drop the run's own earlier writes to it would count too.
  const checks = counted.map(rowCountCheck);
  const framed = [ledgerGuard(run.ledgerVersion), ...checks, ...run.statements, ...bookkeeping, ledgerBump(run.ledgerVersion)];
  try {
    await database.batch(framed.map((statement) => prepare(database, statement)));
  } catch (error) {
    const failedAt = await locateFailingStatement(database, framed);
    if (failedAt === 0) throw new LedgerChangedError();
    const changed = failedAt === undefined ? undefined : counted[failedAt - 1];
    if (changed) throw new RowsChangedError(changed.table, changed.rows);
    const index = failedAt === undefined ? -1 : failedAt - 1 - checks.length;
    const statement = run.statements[index];
    // No statement fails on its own (a failure only at commit, such as a
    // deferred foreign key, or a transient error): D1's message is all we have.
    if (!statement) throw error;
    throw new BatchStatementError(index, statement, messageOf(error));
  }
}

// Inserting the version row again violates its primary key, but only when the
// stored version is no longer the one this run read: a compare-and-swap in SQL.
function ledgerGuard(version: number): BufferedStatement {
  return {
    sql: `insert into "${DEFAULT_MIGRATION_LOCK_TABLE}" ("id", "is_locked") select ?, 0 where (select "is_locked" from "${DEFAULT_MIGRATION_LOCK_TABLE}" where "id" = ?) is not ?`,
    parameters: [LEDGER_VERSION_ROW, LEDGER_VERSION_ROW, version],
  };
}

// The same trick: the version row collides with itself only when the table
// no longer holds the counted rows. No table of its own, nothing left behind.
function rowCountCheck({ table, rows }: CountedTable): BufferedStatement {
  return {
    sql: `insert into "${DEFAULT_MIGRATION_LOCK_TABLE}" ("id", "is_locked") select ?, 0 where (select count(*) from ${quoteIdentifier(table)}) is not ?`,
    parameters: [LEDGER_VERSION_ROW, rows],
  };
}

function ledgerBump(version: number): BufferedStatement {
  return {
    sql: `update "${DEFAULT_MIGRATION_LOCK_TABLE}" set "is_locked" = ? where "id" = ?`,
    parameters: [version + 1, LEDGER_VERSION_ROW],
  };
}

/**
 * Finds the first statement that fails, without applying anything.
 *
 * D1 does not say which statement of a batch failed, so this bisects: each
 * probe runs a prefix followed by a statement that always fails (a table no
 * one can have created: its name is random), which guarantees the probe
 * itself rolls back.
 */
async function locateFailingStatement(
  database: D1Database,
  statements: BufferedStatement[],
): Promise<number | undefined> {
  const probeTable = `__migration_rollback_probe_${crypto.randomUUID().replaceAll("-", "")}`;
  const sentinel = database.prepare(`select * from "${probeTable}"`);
  const prefixFails = async (end: number): Promise<boolean> => {
    try {
      await database.batch([
        ...statements.slice(0, end + 1).map((statement) => prepare(database, statement)),
        sentinel,
      ]);
      return false; // unreachable: the sentinel's table cannot exist
    } catch (error) {
      return !messageOf(error).includes(probeTable);
    }
  };
  let low = 0;
  let high = statements.length - 1;
  if (!(await prefixFails(high))) return undefined;
  while (low < high) {
    const middle = Math.floor((low + high) / 2);
    if (await prefixFails(middle)) high = middle;
    else low = middle + 1;
  }
  return low;
}

function prepare(database: D1Database, statement: BufferedStatement): D1PreparedStatement {
  return database.prepare(statement.sql).bind(...statement.parameters);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
