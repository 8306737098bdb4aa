import { DEFAULT_MIGRATION_TABLE } from "kysely/migration";
import type { BufferedStatement } from "./batched-d1-dialect";

/** The Migrator's ledger write for one migration within a run. */
export interface LedgerEntry {
  /** Index of the ledger statement in the run. */
  index: number;
  migrationName: string;
  direction: "Up" | "Down";
}

/**
 * The Migrator's own ledger writes (one per migration), in run order.
 *
 * @example
 * ```ts
 * ledgerEntries(report.statements).map((entry) => entry.migrationName)
 * ```
 */
export function ledgerEntries(statements: readonly BufferedStatement[]): LedgerEntry[] {
  const insert = `insert into "${DEFAULT_MIGRATION_TABLE}"`;
  const remove = `delete from "${DEFAULT_MIGRATION_TABLE}"`;
  return statements.flatMap((statement, index) => {
    const direction = statement.sql.startsWith(insert) ? "Up" : statement.sql.startsWith(remove) ? "Down" : undefined;
    return direction ? [{ index, migrationName: String(statement.parameters[0]), direction }] : [];
  });
}

/**
 * The migration a statement belongs to: the Migrator writes a migration's
 * ledger row right after its statements, so it is the first ledger write at or
 * after the statement.
 *
 * @example
 * ```ts
 * migrationOfStatement(report.statements, error.statementIndex) // "20261124120000_better_auth"
 * ```
 */
export function migrationOfStatement(statements: readonly BufferedStatement[], index: number): string | undefined {
  return ledgerEntries(statements).find((entry) => entry.index >= index)?.migrationName;
}
