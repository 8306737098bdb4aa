import {
  sql,
  type DatabaseIntrospector,
  type DatabaseMetadataOptions,
  type Kysely,
  type SchemaMetadata,
  type TableMetadata,
} from "kysely";
import { DEFAULT_MIGRATION_LOCK_TABLE, DEFAULT_MIGRATION_TABLE } from "kysely/migration";

interface TableRow {
  name: string;
  sql: string | null;
  type: "table" | "view";
}

/** A table joined with one of its columns (`column` null for a table without any, as `left join` gives). */
interface TableColumnRow extends TableRow {
  column: string | null;
  columnType: string | null;
  notnull: number | null;
  dflt_value: string | null;
  pk: number | null;
}

interface ColumnRow {
  table: string;
  name: string;
  type: string;
  notnull: number;
  dflt_value: string | null;
  pk: number;
}

/**
 * Kysely introspector for D1 that never touches D1's internal tables.
 *
 * D1 creates `_cf_METADATA` (and other `_cf_*` tables) on the first write and
 * answers `SQLITE_AUTH` to `pragma_table_info` on them. Kysely's
 * `SqliteIntrospector` runs that pragma on every table, so the `Migrator`
 * breaks as soon as the database has been written to. This one lists only
 * user tables (no `_cf_*`, no `sqlite_*`).
 *
 * @example
 * ```ts
 * const tables = await new D1Introspector(db).getTables()
 * ```
 */
export class D1Introspector implements DatabaseIntrospector {
  readonly #db: Kysely<any>;

  constructor(db: Kysely<any>) {
    this.#db = db;
  }

  async getSchemas(): Promise<SchemaMetadata[]> {
    // SQLite has no schemas.
    return [];
  }

  async getTables(
    options: DatabaseMetadataOptions = { withInternalKyselyTables: false },
  ): Promise<TableMetadata[]> {
    const internalKysely: string[] = options.withInternalKyselyTables
      ? []
      : [DEFAULT_MIGRATION_TABLE, DEFAULT_MIGRATION_LOCK_TABLE];
    // One read, not a read of the tables and another of their columns: the
    // Migrator introspects three times per run, and each read is a D1 round
    // trip. `_` is a LIKE wildcard, hence the explicit escape character.
    const { rows } = await sql<TableColumnRow>`
      select t.name, t.sql, t.type, p.name as "column", p.type as "columnType", p."notnull", p.dflt_value, p.pk
      from sqlite_master t left join pragma_table_info(t.name) p
      where t.type in ('table', 'view')
        and t.name not like '\\_cf\\_%' escape '\\'
        and t.name not like 'sqlite\\_%' escape '\\'
      order by t.name, p.cid`.execute(this.#db);
    const tables = new Map<string, TableRow>(rows.map(({ name, sql: createSql, type }) => [name, { name, sql: createSql, type }]));
    const columnsByTable = Map.groupBy(
      rows.flatMap(({ name, column, columnType, notnull, dflt_value, pk }): ColumnRow[] =>
        column === null ? [] : [{ table: name, name: column, type: columnType!, notnull: notnull!, dflt_value, pk: pk! }],
      ),
      (row) => row.table,
    );
    return [...tables.values()]
      .filter(({ name }) => !internalKysely.includes(name))
      .map(({ name, sql: createSql, type }) => {
      const tableColumns = columnsByTable.get(name) ?? [];
      const autoIncrementColumn = findAutoIncrementColumn(createSql, tableColumns);
      return {
        name,
        isView: type === "view",
        isForeign: false,
        columns: tableColumns.map((column) => ({
          name: column.name,
          dataType: column.type,
          isNullable: !column.notnull,
          isAutoIncrementing: column.name === autoIncrementColumn,
          hasDefaultValue: column.dflt_value != null,
          comment: undefined,
        })),
      };
    });
  }
}

/** Same rule as Kysely's SqliteIntrospector: an `AUTOINCREMENT` column, else a lone `INTEGER` primary key. */
function findAutoIncrementColumn(createSql: string | null, columns: ColumnRow[]): string | undefined {
  const declared = createSql
    ?.split(/[(),]/)
    .find((part) => part.toLowerCase().includes("autoincrement"))
    ?.trimStart()
    .split(/\s+/)[0]
    ?.replace(/["`]/g, "");
  if (declared) return declared;
  const primaryKey = columns.filter((column) => column.pk > 0);
  return primaryKey.length === 1 && primaryKey[0]!.type.toLowerCase() === "integer"
    ? primaryKey[0]!.name
    : undefined;
}
