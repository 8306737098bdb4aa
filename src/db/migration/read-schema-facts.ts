import { DEFAULT_MIGRATION_LOCK_TABLE, DEFAULT_MIGRATION_TABLE } from "kysely/migration";
import { CHECKSUM_TABLE } from "./migration-checksums";
import { normalizeTokens } from "./normalize-sql";
import { tokenizeSql, type SqlToken } from "./sql-tokens";

/** Runs one read and returns its rows (over D1, or any SQLite). */
export type ReadRows = (sql: string) => Promise<Record<string, unknown>[]>;

/**
 * A schema as comparable facts: a key naming one thing (`column "user"."email"`)
 * and a value describing it (`#2 TEXT not null`). Two schemas are the same
 * when their facts are.
 */
export type SchemaFacts = Map<string, string>;

/** Tables a drift check leaves out: D1's and SQLite's own, wrangler's and drizzle-orm's migration ledgers, and this runner's. */
export const IGNORED_TABLES = ["d1_migrations", "__drizzle_migrations", DEFAULT_MIGRATION_TABLE, DEFAULT_MIGRATION_LOCK_TABLE, CHECKSUM_TABLE];

// `_` is a LIKE wildcard, hence the escape character. D1 refuses pragmas on its `_cf_*` tables.
const OWN_TABLES = `m.type = 'table'
  and m.name not like '\\_cf\\_%' escape '\\' and m.name not like 'sqlite\\_%' escape '\\'
  and m.name not in (${IGNORED_TABLES.map((name) => `'${name}'`).join(", ")})`;

/**
 * Reads what SQLite itself says about a schema: tables (`pragma_table_list`),
 * columns with types, NOT NULL, defaults, primary key and generated kind
 * (`pragma_table_xinfo`), indexes with their columns, order, collation,
 * uniqueness and partial `WHERE` (`pragma_index_list`/`index_xinfo` and
 * `sqlite_master`), foreign keys with their actions (`pragma_foreign_key_list`),
 * CHECK constraints, triggers and views (their `sqlite_master` definitions,
 * normalised). Six reads, whatever the size of the schema.
 *
 * @example
 * ```ts
 * const facts = await readSchemaFacts((sql) => env.DB.prepare(sql).all().then((r) => r.results))
 * ```
 */
export async function readSchemaFacts(read: ReadRows): Promise<SchemaFacts> {
  const facts: SchemaFacts = new Map();
  const add = (key: string, value: string) => {
    let unique = key;
    for (let n = 2; facts.has(unique); n++) unique = `${key} (${n})`;
    facts.set(unique, value);
  };

  const tables = await read(`select m.name, m.sql, t.type, t.wr, t.strict from sqlite_master m join pragma_table_list t on t.name = m.name and t.schema = 'main' where ${OWN_TABLES} order by m.name`);
  for (const table of tables) {
    const name = String(table.name);
    add(`table ${q(name)}`, [table.type === "table" ? "" : String(table.type), table.wr ? "without rowid" : "", table.strict ? "strict" : ""].filter(Boolean).join(" "));
    for (const check of checkConstraints(String(table.sql ?? ""))) {
      add(`check on ${q(name)}${check.column ? `.${q(check.column)}` : ""}${check.name ? ` named ${q(check.name)}` : ` (${check.expression})`}`, check.name ? check.expression : "");
    }
  }

  for (const column of await read(`select m.name as tbl, c.* from sqlite_master m join pragma_table_xinfo(m.name) c where ${OWN_TABLES} order by m.name, c.cid`)) {
    const generated = { 1: " hidden", 2: " generated virtual", 3: " generated stored" }[Number(column.hidden)] ?? "";
    add(
      `column ${q(String(column.tbl))}.${q(String(column.name))}`,
      `#${column.cid} ${String(column.type).toUpperCase() || "(no type)"}${column.notnull ? " not null" : ""}` +
        `${column.dflt_value === null ? "" : ` default ${normalizeTokens(tokenizeSql(String(column.dflt_value)))}`}` +
        `${Number(column.pk) > 0 ? ` primary key #${column.pk}` : ""}${generated}`,
    );
  }

  const indexSql = new Map((await read(`select name, sql from sqlite_master where type = 'index' and sql is not null`)).map((row) => [String(row.name), String(row.sql)]));
  const indexColumns = new Map<string, string[]>();
  for (const column of await read(`select i.name as idx, x.* from sqlite_master m join pragma_index_list(m.name) i join pragma_index_xinfo(i.name) x where ${OWN_TABLES} and x.key = 1 order by i.name, x.seqno`)) {
    const spelled = `${column.cid === -2 ? "<expression>" : q(String(column.name))}${column.desc ? " desc" : ""}${String(column.coll).toUpperCase() === "BINARY" ? "" : ` collate ${column.coll}`}`;
    indexColumns.set(String(column.idx), [...(indexColumns.get(String(column.idx)) ?? []), spelled]);
  }
  for (const index of await read(`select m.name as tbl, i.* from sqlite_master m join pragma_index_list(m.name) i where ${OWN_TABLES} order by m.name, i.name`)) {
    const table = q(String(index.tbl));
    const columns = `(${(indexColumns.get(String(index.name)) ?? []).join(", ")})`;
    if (index.origin === "c") {
      const sql = indexSql.get(String(index.name)) ?? "";
      const where = index.partial ? ` where ${whereClause(sql)}` : "";
      const expressions = columns.includes("<expression>") ? ` as ${normalizeTokens(tokenizeSql(sql))}` : "";
      add(`index ${q(String(index.name))} on ${table}`, `${index.unique ? "unique " : ""}${columns}${where}${expressions}`);
    } else {
      // Created by a UNIQUE or PRIMARY KEY constraint: SQLite names it after the table and position, so key it by content.
      add(`${index.origin === "pk" ? "primary key" : "unique constraint"} on ${table}${columns}`, "");
    }
  }

  // One fact per constraint: a composite key has one row per column pair.
  const foreignKeys = new Map<string, Record<string, unknown>[]>();
  for (const row of await read(`select m.name as tbl, f.* from sqlite_master m join pragma_foreign_key_list(m.name) f where ${OWN_TABLES} order by m.name, f.id, f.seq`)) {
    const id = `${String(row.tbl)}\u0000${String(row.id)}`;
    foreignKeys.set(id, [...(foreignKeys.get(id) ?? []), row]);
  }
  for (const rows of foreignKeys.values()) {
    const { tbl, table, on_update, on_delete } = rows[0]!;
    const from = rows.map((row) => q(String(row.from))).join(", ");
    const to = rows.map((row) => (row.to === null ? "<primary key>" : q(String(row.to)))).join(", ");
    add(`foreign key ${q(String(tbl))}(${from}) references ${q(String(table))}(${to})`, `on update ${String(on_update).toLowerCase()} on delete ${String(on_delete).toLowerCase()}`);
  }

  for (const object of await read(`select type, name, tbl_name, sql from sqlite_master where type in ('trigger', 'view') and name not like '\\_cf\\_%' escape '\\' order by type, name`)) {
    add(`${object.type} ${q(String(object.name))}${object.type === "trigger" ? ` on ${q(String(object.tbl_name))}` : ""}`, normalizeTokens(tokenizeSql(String(object.sql))));
  }
  return facts;
}

function q(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** The text after a partial index's top-level WHERE, normalised. */
function whereClause(sql: string): string {
  const tokens = tokenizeSql(sql);
  const at = tokens.findIndex((token) => token.depth === 0 && token.text === "where");
  return at === -1 ? "" : normalizeTokens(tokens.slice(at + 1));
}

interface CheckConstraint {
  /** Set for a column constraint. */
  column?: string;
  name?: string;
  expression: string;
}

/**
 * The CHECK constraints of a `CREATE TABLE` as SQLite stored it: table
 * constraints and column constraints, with their names. SQLite has no pragma
 * for them, so they are read from the definition's tokens.
 */
function checkConstraints(createTable: string): CheckConstraint[] {
  const tokens = tokenizeSql(createTable);
  const open = tokens.findIndex((token) => token.depth === 0 && token.text === "(");
  if (open === -1) return []; // `create table … as select`: no constraints
  // The definitions between the outer parentheses, split at their commas.
  const items: SqlToken[][] = [[]];
  for (const token of tokens.slice(open + 1)) {
    if (token.depth === 0) break;
    if (token.depth === 1 && token.text === ",") items.push([]);
    else items.at(-1)!.push(token);
  }
  const checks: CheckConstraint[] = [];
  for (const item of items) {
    const first = item[0]?.text;
    const column = first && !["constraint", "check", "primary", "unique", "foreign"].includes(first) ? item[0]! : undefined;
    item.forEach((token, index) => {
      if (token.depth !== 1 || token.text !== "check" || item[index + 1]?.text !== "(") return;
      const end = item.findIndex((other, at) => at > index + 1 && other.depth === 1 && other.text === ")");
      const named = item[index - 2]?.text === "constraint" ? item[index - 1] : undefined;
      checks.push({
        ...(column && { column: normalizeTokens([column]) }),
        ...(named && { name: normalizeTokens([named]) }),
        expression: normalizeTokens(item.slice(index + 2, end)),
      });
    });
  }
  return checks;
}
