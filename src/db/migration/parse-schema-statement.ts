import { IDENTIFIER_PATTERN, unquoteIdentifier } from "./sql-identifier";

/** What a foreign key does to child rows when its parent row is deleted. */
export type OnDeleteAction = "CASCADE" | "SET NULL" | "SET DEFAULT" | "RESTRICT" | "NO ACTION";

/** A `REFERENCES parent` clause of a table. */
export interface ForeignKeyReference {
  parent: string;
  onDelete: OnDeleteAction;
}

/** The effect of one statement on the set of tables, as far as the guards care. */
export type SchemaStatement =
  | { kind: "create-table"; table: string; ifNotExists: boolean; references: ForeignKeyReference[] }
  | { kind: "drop-table"; table: string }
  | { kind: "rename-table"; from: string; to: string }
  | { kind: "add-column"; table: string; references: ForeignKeyReference[] };

// An optional `schema.` qualifier followed by the captured table name.
const TABLE = String.raw`(?:${IDENTIFIER_PATTERN}\s*\.\s*)?(${IDENTIFIER_PATTERN})`;
const CREATE_TABLE = new RegExp(String.raw`^create\s+(?:temp\s+|temporary\s+)?table\s+(if\s+not\s+exists\s+)?${TABLE}`, "i");
const DROP_TABLE = new RegExp(String.raw`^drop\s+table\s+(?:if\s+exists\s+)?${TABLE}`, "i");
const RENAME_TABLE = new RegExp(String.raw`^alter\s+table\s+${TABLE}\s+rename\s+to\s+(${IDENTIFIER_PATTERN})`, "i");
const ADD_COLUMN = new RegExp(String.raw`^alter\s+table\s+${TABLE}\s+add\s`, "i");
// A foreign-key clause: `references t [(cols)]` then its options in any order.
const REFERENCES = new RegExp(
  String.raw`\breferences\s+${TABLE}\s*(?:\([^)]*\))?((?:\s*(?:on\s+(?:delete|update)\s+(?:set\s+null|set\s+default|cascade|restrict|no\s+action)|match\s+\w+|(?:not\s+)?deferrable(?:\s+initially\s+(?:deferred|immediate))?))*)`,
  "gi",
);
const ON_DELETE = /on\s+delete\s+(set\s+null|set\s+default|cascade|restrict|no\s+action)/i;

/**
 * Recognises the statements that create, drop or rename a table (or add a
 * column, which may add a foreign key); `undefined` for anything else.
 *
 * It reads SQL as Kysely's schema builder writes it and as people commonly
 * write it by hand; it is not a full SQLite parser.
 *
 * @example
 * ```ts
 * parseSchemaStatement('drop table if exists "user"') // { kind: "drop-table", table: "user" }
 * ```
 */
export function parseSchemaStatement(sql: string): SchemaStatement | undefined {
  const text = stripLeadingComments(sql);
  let match = CREATE_TABLE.exec(text);
  if (match) {
    return {
      kind: "create-table",
      table: unquoteIdentifier(match[2]!),
      ifNotExists: match[1] !== undefined,
      references: parseReferences(text.slice(match[0].length)),
    };
  }
  if ((match = DROP_TABLE.exec(text))) return { kind: "drop-table", table: unquoteIdentifier(match[1]!) };
  if ((match = RENAME_TABLE.exec(text))) {
    return { kind: "rename-table", from: unquoteIdentifier(match[1]!), to: unquoteIdentifier(match[2]!) };
  }
  if ((match = ADD_COLUMN.exec(text))) {
    return { kind: "add-column", table: unquoteIdentifier(match[1]!), references: parseReferences(text.slice(match[0].length)) };
  }
  return undefined;
}

function parseReferences(definition: string): ForeignKeyReference[] {
  return Array.from(definition.matchAll(REFERENCES), (match) => ({
    parent: unquoteIdentifier(match[1]!),
    // SQLite's default action when none is given.
    onDelete: (ON_DELETE.exec(match[2] ?? "")?.[1]?.toUpperCase().replace(/\s+/, " ") ?? "NO ACTION") as OnDeleteAction,
  }));
}

function stripLeadingComments(sql: string): string {
  return sql.replace(/^(?:\s+|--[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/)*/, "");
}
