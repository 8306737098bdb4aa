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
    // `_` is a LIKE wildcard, hence the explicit escape character.
    const tables = await sql<TableRow>`
      select name, sql, type from sqlite_master
      where type in ('table', 'view')
        and name not like '\\_cf\\_%' escape '\\'
        and name not like 'sqlite\\_%' escape '\\'
      order by name`.execute(this.#db);
    const columns = await sql<ColumnRow>`
      select t.name as "table", p.name, p.type, p."notnull", p.dflt_value, p.pk
      from sqlite_master t, pragma_table_info(t.name) p
      where t.type in ('table', 'view')
        and t.name not like '\\_cf\\_%' escape '\\'
        and t.name not like 'sqlite\\_%' escape '\\'
      order by t.name, p.cid`.execute(this.#db);

    const columnsByTable = Map.groupBy(columns.rows, (row) => row.table);
    return tables.rows
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
