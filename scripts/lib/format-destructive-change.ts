import type { DestructiveChange } from "../../src/db/migration/find-destructive-changes";

/**
 * Two CLI lines for a destructive change: what it does, then how to proceed.
 *
 * @example
 * ```ts
 * formatDestructiveChange(change) // ['20270101_x: statement #3 drops table "t", which holds 2 row(s)', '  to proceed: …']
 * ```
 */
export function formatDestructiveChange(change: DestructiveChange): [string, string] {
  const where = `${change.migration ?? "the run"}: statement #${change.statementIndex + 1}`;
  const verb = change.rebuild ? "rebuilds (drops and recreates) table" : "drops table";
  if (change.kind === "drops-rows") {
    const holder = change.rowsOf === change.table ? "" : ` (renamed from "${change.rowsOf}" in this run)`;
    return [
      `${where} ${verb} "${change.table}"${holder}, which holds ${change.rows} row(s)`,
      "  to proceed: run again with --force; it first writes these rows to a backup file (SQL inserts, restorable with 'wrangler d1 execute --file')",
    ];
  }
  if (change.kind === "drops-column") {
    return [
      `${where} drops column "${change.column}" of table "${change.table}"${change.rowsOf === change.table ? "" : ` (renamed from "${change.rowsOf}" in this run)`}, which holds ${change.rows} non-null value(s)`,
      "  to proceed: run again with --force; it first writes the table's rows to a backup file (SQL inserts, restorable with 'wrangler d1 execute --file')",
    ];
  }
  const children = change.children.map((child) => `"${child.table}" (ON DELETE ${child.onDelete})`).join(", ");
  return [
    `${where} ${verb} "${change.table}", which ${children} reference: D1 always enforces foreign keys, so dropping it deletes or changes their rows`,
    `  to proceed: keep the children's rows in the same migration (rebuildTable in src/db/migration/rebuild-table.ts does) and declare it with 'export const handlesChildrenOf = ["${change.table}"]'; --force does not lift this`,
  ];
}
