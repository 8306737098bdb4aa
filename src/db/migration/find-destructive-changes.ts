import { sql, type Kysely } from "kysely";
import type { Migration } from "kysely/migration";
import type { BufferedStatement } from "./batched-d1-dialect";
import { migrationOfStatement } from "./ledger-entries";
import type { OnDeleteAction } from "./read-foreign-keys";
import type { MirrorTable, StatementEffect } from "./run-analyser";
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

/** A dropped column (`ALTER TABLE … DROP COLUMN`) that holds values: refused unless forced, and then its table backed up first. */
export interface DropsColumnFinding extends FindingBase {
  kind: "drops-column";
  column: string;
  /** The existing table the column's values are in. */
  rowsOf: string;
  /** Rows whose value in the column is not null. */
  rows: number;
}

/** A `DROP TABLE` of a parent whose children's rows D1 would delete or change: refused unless the migration declares it handles them. */
export interface ChangesChildrenFinding extends FindingBase {
  kind: "changes-children";
  children: { table: string; onDelete: OnDeleteAction }[];
}

export type DestructiveChange = DropsRowsFinding | DropsColumnFinding | ChangesChildrenFinding;

/** A table (or one column's non-null values) that existed before the run and that the run drops, counted before the run. */
export interface CountedTable {
  table: string;
  /** Set when the count is of this column's non-null values. */
  column?: string;
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

/** A table of the copy, tracked through the run back to the live table (and columns) it holds. */
interface Tracked {
  /** The live table whose rows it holds; undefined if the run created it. */
  existingTable: string | undefined;
  /** Per current column, the live column whose values it holds. */
  columns: { name: string; origin: string | undefined }[];
}

/**
 * Inspects a run before it is applied, from what SQLite reported for each
 * statement on a copy of the schema (see `RunAnalyser`): which dropped tables
 * and columns lose rows or values (counted now, with immediate reads), and
 * which drops remove a parent whose children's rows D1 would cascade-delete or
 * null (D1 always enforces foreign keys, so `DROP TABLE` runs its implicit
 * `DELETE` with every action).
 *
 * Tables are tracked through the run: a table created earlier in the run holds
 * no rows yet, a renamed table keeps its rows and its children.
 *
 * @example
 * ```ts
 * const { changes, counted } = await findDestructiveChanges(db, run.statements, run.effects, migrations)
 * ```
 */
export async function findDestructiveChanges(
  db: Kysely<any>,
  statements: readonly BufferedStatement[],
  effects: readonly StatementEffect[],
  migrations: Readonly<Record<string, Migration>>,
): Promise<DestructiveChangeFindings> {
  const changes: DestructiveChange[] = [];
  const counted: CountedTable[] = [];
  const tracked = new Map<string, Tracked>();
  for (const table of effects[0]?.before ?? []) {
    tracked.set(key(table.name), { existingTable: table.name, columns: table.columns.map((name) => ({ name, origin: name })) });
  }
  for (const [statementIndex, effect] of effects.entries()) {
    if (!effect.facts.changesSchema) continue;
    const migration = migrationOfStatement(statements, statementIndex);
    const isRebuilt = (name: string) => effects.slice(statementIndex + 1).some((later) => later.after.some((table) => sameName(table.name, name)));
    const dropped = effect.before.filter((table) => effect.facts.droppedTables.some((name) => sameName(name, table.name)));
    for (const table of dropped) {
      const base = { migration, statementIndex, table: table.name, rebuild: isRebuilt(table.name) };
      const existing = tracked.get(key(table.name))?.existingTable;
      tracked.delete(key(table.name));
      if (existing) {
        const rows = await countRows(db, existing);
        counted.push({ table: existing, rows });
        if (rows > 0) changes.push({ kind: "drops-rows", ...base, rowsOf: existing, rows });
      }
      const children = childrenOf(effect.before, table.name);
      if (children.length > 0 && !declaresChildrenHandled(migrations, migration, [table.name, existing])) {
        changes.push({ kind: "changes-children", ...base, children });
      }
    }
    const remaining = effect.before.filter((table) => !dropped.includes(table));
    const vanished = remaining.filter((table) => !effect.after.some((other) => sameName(other.name, table.name)));
    const appeared = effect.after.filter((table) => !effect.before.some((other) => sameName(other.name, table.name)));
    // A table gone without a drop was renamed: it is the one table that appeared.
    if (vanished.length === 1 && appeared.length === 1) {
      const carried = tracked.get(key(vanished[0]!.name));
      tracked.delete(key(vanished[0]!.name));
      if (carried) tracked.set(key(appeared[0]!.name), carried);
    } else {
      for (const table of appeared) tracked.set(key(table.name), { existingTable: undefined, columns: table.columns.map((name) => ({ name, origin: undefined })) });
    }
    for (const table of effect.after) {
      const entry = tracked.get(key(table.name));
      if (!entry) continue;
      const lost = followColumns(entry, table);
      for (const column of lost) {
        if (!entry.existingTable || !column.origin) continue;
        const rows = await countValues(db, entry.existingTable, column.origin);
        counted.push({ table: entry.existingTable, column: column.origin, rows });
        if (rows > 0) {
          changes.push({ kind: "drops-column", migration, statementIndex, table: table.name, rebuild: false, column: column.name, rowsOf: entry.existingTable, rows });
        }
      }
    }
  }
  return { changes, counted };
}

/**
 * Moves a tracked table's columns to the table's new column list and returns
 * the columns it lost. Same count with other names: a column was renamed
 * (SQLite keeps its position).
 */
function followColumns(entry: Tracked, table: MirrorTable): Tracked["columns"] {
  const old = entry.columns;
  if (old.length === table.columns.length) {
    entry.columns = table.columns.map((name, index) => ({ name, origin: old[index]!.origin }));
    return [];
  }
  const lost = old.filter((column) => !table.columns.some((name) => sameName(name, column.name)));
  entry.columns = table.columns.map((name) => ({ name, origin: old.find((column) => sameName(column.name, name))?.origin }));
  return lost;
}

function childrenOf(tables: readonly MirrorTable[], parent: string): ChangesChildrenFinding["children"] {
  return tables.flatMap((child) =>
    sameName(child.name, parent)
      ? []
      : child.foreignKeys
          .filter((fk) => sameName(fk.parent, parent) && SILENT_ACTIONS.includes(fk.onDelete))
          .map((fk) => ({ table: child.name, onDelete: fk.onDelete })),
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

// SQLite folds ASCII case in identifiers.
function key(name: string): string {
  return name.toLowerCase();
}

async function countRows(db: Kysely<any>, table: string): Promise<number> {
  const { rows } = await sql<{ count: number }>`select count(*) as count from ${sql.raw(quoteIdentifier(table))}`.execute(db);
  return Number(rows[0]?.count ?? 0);
}

async function countValues(db: Kysely<any>, table: string, column: string): Promise<number> {
  const { rows } = await sql<{ count: number }>`select count(${sql.raw(quoteIdentifier(column))}) as count from ${sql.raw(quoteIdentifier(table))}`.execute(db);
  return Number(rows[0]?.count ?? 0);
}
