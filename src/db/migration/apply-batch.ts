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

/**
 * The batch was sent but no answer came back (`fetch failed`, a timeout): D1
 * may have committed it or not. Only the ledger can tell.
 */
export class BatchOutcomeUnknownError extends Error {
  constructor(cause: unknown) {
    super(`the batch was sent but its answer was lost (${messageOf(cause)}); outcome unknown: check with \`kysely:migrate list\``, { cause });
    this.name = "BatchOutcomeUnknownError";
  }
}

/** The batch failed when D1 committed it, after every statement ran: no statement is to blame. */
export class BatchCommitError extends Error {
  constructor(
    /** What failed, in D1's (or SQLite's) words. */
    readonly databaseMessage: string,
  ) {
    super(`the batch failed at commit: ${databaseMessage}`);
    this.name = "BatchCommitError";
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
    // Without an answer the batch may have committed: bisecting would then
    // find the ledger moved (by this very run) and blame another run.
    if (isTransportError(error)) throw new BatchOutcomeUnknownError(error);
    const failedAt = await locateFailingStatement(database, framed);
    if (failedAt === 0) throw new LedgerChangedError();
    const changed = failedAt === undefined ? undefined : counted[failedAt - 1];
    if (changed) throw new RowsChangedError(changed.table, changed.rows);
    const index = failedAt === undefined ? -1 : failedAt - 1 - checks.length;
    const statement = run.statements[index];
    // No statement fails on its own: the failure is at commit, where D1
    // locally reports only "internal error"; ask SQLite about deferred keys.
    if (!statement) throw new BatchCommitError(await commitFailure(database, framed, error));
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
function rowCountCheck({ table, column, rows }: CountedTable): BufferedStatement {
  const counted = column === undefined ? "*" : quoteIdentifier(column);
  return {
    sql: `insert into "${DEFAULT_MIGRATION_LOCK_TABLE}" ("id", "is_locked") select ?, 0 where (select count(${counted}) from ${quoteIdentifier(table)}) is not ?`,
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
 * Why a batch whose statements all succeed fails at commit: a deferred foreign
 * key still violated (SQLite's `pragma_foreign_key_check`, probed in a batch
 * that rolls back), else D1's own message.
 */
async function commitFailure(database: D1Database, framed: BufferedStatement[], error: unknown): Promise<string> {
  const probeTable = `__migration_rollback_probe_${crypto.randomUUID().replaceAll("-", "")}`;
  const violations = `insert into "${DEFAULT_MIGRATION_LOCK_TABLE}" ("id", "is_locked") select ?, 0 where exists (select 1 from pragma_foreign_key_check)`;
  try {
    await database.batch([
      ...framed.map((statement) => prepare(database, statement)),
      database.prepare(violations).bind(LEDGER_VERSION_ROW),
      database.prepare(`select * from "${probeTable}"`),
    ]);
  } catch (probeError) {
    // The check collides with the ledger's version row only when a key is violated.
    if (/UNIQUE constraint failed/.test(messageOf(probeError)) && messageOf(probeError).includes(DEFAULT_MIGRATION_LOCK_TABLE)) {
      return "FOREIGN KEY constraint failed: a deferred foreign key is still violated when the batch commits (rows reference a parent that does not exist)";
    }
  }
  return messageOf(error);
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
      if (messageOf(error).includes(probeTable)) return false;
      // Only a statement's own error blames a prefix; anything else (a lost
      // answer, an internal error) says nothing about where the run fails.
      if (!isStatementError(error)) throw new LocateAborted();
      return true;
    }
  };
  let low = 0;
  let high = statements.length - 1;
  try {
    if (!(await prefixFails(high))) return undefined;
    while (low < high) {
      const middle = Math.floor((low + high) / 2);
      if (await prefixFails(middle)) high = middle;
      else low = middle + 1;
    }
  } catch (error) {
    if (error instanceof LocateAborted) return undefined;
    throw error;
  }
  return low;
}

class LocateAborted extends Error {}

/**
 * An error SQLite raised for a statement (D1 prefixes them `D1_ERROR`, SQLite
 * codes read `SQLITE_…`), not contention or a fault of the database itself.
 */
function isStatementError(error: unknown): boolean {
  const message = messageOf(error);
  return /D1_ERROR|SQLITE_[A-Z]+/.test(message) && !/SQLITE_(BUSY|LOCKED|INTERNAL|IOERR|NOMEM|FULL)/.test(message) && !/internal error/i.test(message);
}

/** No answer from D1: the request failed or timed out on the way. */
function isTransportError(error: unknown): boolean {
  return !isStatementError(error) && /fetch failed|timed? ?out|network connection lost|ECONN|socket hang up/i.test(messageOf(error));
}

function prepare(database: D1Database, statement: BufferedStatement): D1PreparedStatement {
  return database.prepare(statement.sql).bind(...statement.parameters);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
