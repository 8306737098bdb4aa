import { getTableName, type SQL } from "drizzle-orm";
import { getTableConfig, SQLiteSyncDialect, type SQLiteTable } from "drizzle-orm/sqlite-core";

/**
 * One table as both Drizzle and the database can describe it, in a shape
 * where equal means "same schema": columns, primary key, foreign keys with
 * their actions, UNIQUE constraints, named (incl. partial) indexes and
 * named CHECKs. SQL text is normalised (quotes, table prefixes, whitespace).
 */
export interface TableDescription {
  name: string;
  columns: { name: string; type: string; notNull: boolean; default: string | null; primaryKey: number }[];
  foreignKeys: { columns: string[]; table: string; foreignColumns: string[]; onDelete: string; onUpdate: string }[];
  uniqueConstraints: string[][];
  indexes: { name: string; unique: boolean; columns: string[]; where: string | null }[];
  checks: { name: string; expression: string }[];
}

const dialect = new SQLiteSyncDialect();

/**
 * What a Drizzle table definition declares.
 *
 * @example
 * ```ts
 * describeDrizzleTable(schema.userSubscriptions)
 * ```
 */
export function describeDrizzleTable(table: SQLiteTable): TableDescription {
  const config = getTableConfig(table);
  const render = (value: SQL) => normaliseSql(dialect.sqlToQuery(value).sql, config.name);
  const compositeKey = config.primaryKeys[0]?.columns.map((column) => column.name) ?? [];
  return sortDescription({
    name: config.name,
    columns: config.columns.map((column) => ({
      name: column.name,
      type: column.getSQLType().toLowerCase(),
      notNull: column.notNull,
      default: column.default === undefined ? null : String(column.default),
      primaryKey: column.primary ? 1 : compositeKey.indexOf(column.name) + 1,
    })),
    foreignKeys: config.foreignKeys.map((foreignKey) => {
      const reference = foreignKey.reference();
      return {
        columns: reference.columns.map((column) => column.name),
        table: getTableName(reference.foreignTable),
        foreignColumns: reference.foreignColumns.map((column) => column.name),
        onDelete: (foreignKey.onDelete ?? "no action").toUpperCase(),
        onUpdate: (foreignKey.onUpdate ?? "no action").toUpperCase(),
      };
    }),
    uniqueConstraints: [
      ...config.columns.filter((column) => column.isUnique).map((column) => [column.name]),
      ...config.uniqueConstraints.map((constraint) => constraint.columns.map((column) => column.name)),
    ],
    indexes: config.indexes.map(({ config: index }) => ({
      name: index.name,
      unique: index.unique,
      columns: index.columns.map((column) => ("name" in column ? column.name : render(column as SQL))),
      where: index.where ? render(index.where) : null,
    })),
    checks: config.checks.map((check) => ({ name: check.name, expression: render(check.value) })),
  });
}

interface ColumnInfo {
  name: string;
  type: string;
  notnull: number;
  dflt_value: string | null;
  pk: number;
}
interface ForeignKeyInfo {
  id: number;
  table: string;
  from: string;
  to: string;
  on_update: string;
  on_delete: string;
}
interface IndexInfo {
  name: string;
  unique: number;
  origin: "c" | "u" | "pk";
  sql: string | null;
}

/**
 * What the database holds for a table (pragmas and `sqlite_master`).
 *
 * @example
 * ```ts
 * await describeDatabaseTable(env.DB, "user_subscriptions")
 * ```
 */
export async function describeDatabaseTable(database: D1Database, name: string): Promise<TableDescription> {
  const all = async <Row>(sql: string, ...params: unknown[]) => (await database.prepare(sql).bind(...params).all<Row>()).results;
  const [tableSql] = await all<{ sql: string }>(`select sql from sqlite_master where type = 'table' and name = ?`, name);
  if (!tableSql) throw new Error(`no table "${name}" in the database`);
  const columns = await all<ColumnInfo>(`select * from pragma_table_info(?) order by cid`, name);
  const foreignKeys = await all<ForeignKeyInfo>(`select * from pragma_foreign_key_list(?) order by id, seq`, name);
  const indexes = await all<IndexInfo>(
    `select l.name, l."unique", l.origin, m.sql from pragma_index_list(?) l left join sqlite_master m on m.name = l.name`,
    name,
  );
  const indexColumns = async (index: string) =>
    (await all<{ name: string }>(`select name from pragma_index_info(?) order by seqno`, index)).map((column) => column.name);

  return sortDescription({
    name,
    columns: columns.map((column) => ({
      name: column.name,
      type: column.type.toLowerCase(),
      notNull: column.notnull === 1,
      default: column.dflt_value,
      primaryKey: column.pk,
    })),
    foreignKeys: [...Map.groupBy(foreignKeys, (foreignKey) => foreignKey.id).values()].map((parts) => ({
      columns: parts.map((part) => part.from),
      table: parts[0]!.table,
      foreignColumns: parts.map((part) => part.to),
      onDelete: parts[0]!.on_delete.toUpperCase(),
      onUpdate: parts[0]!.on_update.toUpperCase(),
    })),
    uniqueConstraints: await Promise.all(indexes.filter((index) => index.origin === "u").map((index) => indexColumns(index.name))),
    indexes: await Promise.all(
      indexes
        .filter((index) => index.origin === "c")
        .map(async (index) => ({
          name: index.name,
          unique: index.unique === 1,
          columns: await indexColumns(index.name),
          where: partialIndexWhere(index.sql ?? "", name),
        })),
    ),
    checks: checkClauses(tableSql.sql).map(({ name: check, expression }) => ({ name: check, expression: normaliseSql(expression, name) })),
  });
}

/**
 * The differences between two descriptions of one table, one line each;
 * empty when they agree.
 *
 * @example
 * ```ts
 * expect(diffTables(describeDrizzleTable(t), await describeDatabaseTable(env.DB, "user"))).toEqual([])
 * ```
 */
export function diffTables(drizzle: TableDescription, database: TableDescription): string[] {
  return [
    ...diffKeyed("column", drizzle.columns, database.columns, (column) => column.name),
    ...diffKeyed("foreign key", drizzle.foreignKeys, database.foreignKeys, (fk) => fk.columns.join(", ")),
    ...diffKeyed("unique constraint", drizzle.uniqueConstraints, database.uniqueConstraints, (columns) => columns.join(", ")),
    ...diffKeyed("index", drizzle.indexes, database.indexes, (index) => index.name),
    ...diffKeyed("check", drizzle.checks, database.checks, (check) => check.name),
  ].map((line) => `${database.name}: ${line}`);
}

function diffKeyed<T>(kind: string, drizzle: T[], database: T[], key: (item: T) => string): string[] {
  const inDrizzle = new Map(drizzle.map((item) => [key(item), item]));
  const inDatabase = new Map(database.map((item) => [key(item), item]));
  const lines: string[] = [];
  for (const name of new Set([...inDrizzle.keys(), ...inDatabase.keys()])) {
    const [ours, theirs] = [inDrizzle.get(name), inDatabase.get(name)];
    if (!theirs) lines.push(`${kind} ${name} is in Drizzle only`);
    else if (!ours) lines.push(`${kind} ${name} is in the database only`);
    else if (JSON.stringify(ours) !== JSON.stringify(theirs)) {
      lines.push(`${kind} ${name} differs: Drizzle ${JSON.stringify(ours)}, database ${JSON.stringify(theirs)}`);
    }
  }
  return lines;
}

function sortDescription(description: TableDescription): TableDescription {
  const byKey = <T>(key: (item: T) => string) => (a: T, b: T) => key(a).localeCompare(key(b));
  return {
    ...description,
    columns: description.columns.toSorted(byKey((column) => column.name)),
    foreignKeys: description.foreignKeys.toSorted(byKey((fk) => fk.columns.join())),
    uniqueConstraints: description.uniqueConstraints.toSorted(byKey((columns) => columns.join())),
    indexes: description.indexes.toSorted(byKey((index) => index.name)),
    checks: description.checks.toSorted(byKey((check) => check.name)),
  };
}

/**
 * One spelling for equal SQL: no identifier quotes, no `"table".` prefixes
 * (Drizzle qualifies columns), single spaces, none inside parentheses.
 * Literals keep their case, so `'[A-Z]'` and `'[a-z]'` still differ.
 */
export function normaliseSql(text: string, table: string): string {
  return text
    .replaceAll(`"${table}".`, "")
    .replace(/"([^"]*)"/g, "$1")
    .replace(/\s+/g, " ")
    .replace(/\(\s+/g, "(")
    .replace(/\s+\)/g, ")")
    .trim();
}

/** The `WHERE` of a partial index's `CREATE INDEX`, normalised; null for a full index. */
function partialIndexWhere(createIndexSql: string, table: string): string | null {
  const where = /\)\s+where\s+([\s\S]+)$/i.exec(createIndexSql);
  return where ? normaliseSql(where[1]!, table) : null;
}

/**
 * The CHECK clauses of a `CREATE TABLE`, by constraint name; an unnamed one
 * is keyed by its text, so Drizzle (whose checks are always named) never matches it.
 */
function checkClauses(createTableSql: string): { name: string; expression: string }[] {
  const checks: { name: string; expression: string }[] = [];
  const start = /(?:constraint\s+"([^"]+)"\s+)?\bcheck\s*\(/gi;
  for (let match = start.exec(createTableSql); match; match = start.exec(createTableSql)) {
    const open = match.index + match[0].length;
    const close = closingParenthesis(createTableSql, open);
    const expression = createTableSql.slice(open, close);
    checks.push({ name: match[1] ?? `unnamed check (${expression})`, expression });
    start.lastIndex = close;
  }
  return checks;
}

/** Index of the `)` that closes the `(` just before `from`, skipping string literals. */
function closingParenthesis(text: string, from: number): number {
  let depth = 1;
  for (let i = from; i < text.length; i++) {
    const char = text[i];
    if (char === "'") i = text.indexOf("'", i + 1);
    else if (char === "(") depth++;
    else if (char === ")" && --depth === 0) return i;
  }
  throw new Error(`unbalanced parentheses in: ${text}`);
}
