import { sql, type Kysely } from "kysely";
import type { Migration } from "kysely/migration";
import type { BufferedStatement } from "./batched-d1-dialect";
import { migrationOfStatement } from "./ledger-entries";
import { parseSchemaStatement, type OnDeleteAction, type SchemaStatement } from "./parse-schema-statement";
import { readForeignKeys, readTableNames } from "./read-foreign-keys";
import { SchemaModel } from "./schema-model";
import { quoteIdentifier, sameName } from "./sql-identifier";

/**
 * A migration module may export `handlesChildrenOf`: the tables it drops or
 * rebuilds whose child rows it moves itself (e.g. with {@link rebuildTable}).
 * Kysely keeps a module's extra exports on the registry entry.
 *
 * @example
 * ```ts
 * // migrations/20270101000000_rebuild_user.ts
 * export const handlesChildrenOf = ["user"];
 * ```
 */
export interface MigrationHandlingChildren extends Migration {
  readonly handlesChildrenOf?: readonly string[];
}

interface FindingBase {
  /** The migration whose statement it is. */
  migration: string | undefined;
  /** 0-based position of the statement in the run. */
  statementIndex: number;
  /** The table as the statement names it. */
  table: string;
  /** The run creates a table by that name again afterwards: a rebuild (create, copy, drop, rename). */
  rebuild: boolean;
}

/** A `DROP TABLE` of a table that holds rows: refused unless forced, and then backed up first. */
export interface DropsRowsFinding extends FindingBase {
  kind: "drops-rows";
  /** The existing table whose rows go (differs from `table` when the run renamed it first). */
  rowsOf: string;
  rows: number;
}

/** A `DROP TABLE` of a parent whose children's rows D1 would delete or change: refused unless the migration declares it handles them. */
export interface ChangesChildrenFinding extends FindingBase {
  kind: "changes-children";
  children: { table: string; onDelete: OnDeleteAction }[];
}

export type DestructiveChange = DropsRowsFinding | ChangesChildrenFinding;

/** A table that existed before the run and that the run drops, with the rows counted before the run. */
export interface CountedTable {
  table: string;
  rows: number;
}

export interface DestructiveChangeFindings {
  changes: DestructiveChange[];
  /**
   * Every table counted, empty ones included: the batch asserts these counts
   * still hold (see `applyBatch`), since the app may write between the count and the batch.
   */
  counted: CountedTable[];
}

// The actions that silently delete or rewrite child rows when the parent row
// goes. RESTRICT and NO ACTION instead make the drop fail, which is loud.
const SILENT_ACTIONS: readonly OnDeleteAction[] = ["CASCADE", "SET NULL", "SET DEFAULT"];

/**
 * Inspects a run's statements before they are applied: which `DROP TABLE`s
 * lose rows (counted now, with immediate reads) and which drop a parent whose
 * children's rows D1 would cascade-delete or null (D1 always enforces foreign
 * keys, so `DROP TABLE` runs its implicit `DELETE` with every action).
 *
 * Tables are tracked through the run: a table created earlier in the run holds
 * no rows yet, a renamed table keeps its rows and its children.
 *
 * @example
 * ```ts
 * const { changes, counted } = await findDestructiveChanges(db, run.statements, migrations)
 * ```
 */
export async function findDestructiveChanges(
  db: Kysely<any>,
  statements: readonly BufferedStatement[],
  migrations: Readonly<Record<string, Migration>>,
): Promise<DestructiveChangeFindings> {
  const parsed = statements.map((statement) => parseSchemaStatement(statement.sql));
  // Most runs drop nothing: spare them the reads.
  if (!parsed.some((statement) => statement?.kind === "drop-table")) return { changes: [], counted: [] };

  const model = new SchemaModel(await readTableNames(db), await readForeignKeys(db));
  const changes: DestructiveChange[] = [];
  const counted: CountedTable[] = [];
  for (const [statementIndex, statement] of parsed.entries()) {
    if (statement?.kind === "drop-table") {
      const table = model.table(statement.table);
      // A drop of a missing table is a no-op (`if exists`) or fails the batch.
      if (table) {
        const base = {
          migration: migrationOfStatement(statements, statementIndex),
          statementIndex,
          table: table.name,
          rebuild: isRecreatedLater(parsed.slice(statementIndex + 1), table.name),
        };
        const rows = table.existingTable ? await countRows(db, table.existingTable) : 0;
        if (table.existingTable) counted.push({ table: table.existingTable, rows });
        if (rows > 0) changes.push({ kind: "drops-rows", ...base, rowsOf: table.existingTable!, rows });
        const children = model
          .referencesTo(table.name)
          .filter((fk) => SILENT_ACTIONS.includes(fk.onDelete))
          .map((fk) => ({ table: fk.child, onDelete: fk.onDelete }));
        if (children.length > 0 && !declaresChildrenHandled(migrations, base.migration, [table.name, table.existingTable])) {
          changes.push({ kind: "changes-children", ...base, children });
        }
      }
    }
    if (statement) model.apply(statement);
  }
  return { changes, counted };
}

function isRecreatedLater(rest: readonly (SchemaStatement | undefined)[], table: string): boolean {
  return rest.some(
    (statement) =>
      (statement?.kind === "create-table" && sameName(statement.table, table)) ||
      (statement?.kind === "rename-table" && sameName(statement.to, table)),
  );
}

function declaresChildrenHandled(
  migrations: Readonly<Record<string, Migration>>,
  migration: string | undefined,
  names: readonly (string | undefined)[],
): boolean {
  const declared = migration === undefined ? undefined : (migrations[migration] as MigrationHandlingChildren | undefined)?.handlesChildrenOf;
  return (declared ?? []).some((entry) => names.some((name) => name !== undefined && sameName(entry, name)));
}

async function countRows(db: Kysely<any>, table: string): Promise<number> {
  const { rows } = await sql<{ count: number }>`select count(*) as count from ${sql.raw(quoteIdentifier(table))}`.execute(db);
  return Number(rows[0]?.count ?? 0);
}
