import { exactRows, ledgerSnapshot, schemaSnapshot, type ReadRows } from "./schema-snapshot";

/**
 * Everything a notebook-migration run could change: schema, ledger and the
 * rows of both tables, compared byte for byte (SQLite's `quote()`).
 *
 * @example
 * ```ts
 * const before = await notebookState(d1Reader(env.DB))
 * ```
 */
export async function notebookState(read: ReadRows) {
  return {
    schema: await schemaSnapshot(read),
    ledger: await ledgerSnapshot(read),
    notebooks: await exactRows(read, "notebook"),
    notes: await exactRows(read, "note"),
  };
}
