/**
 * Every row of a table, each value as SQLite's `quote()` renders it: the
 * literal shows the storage class and every byte (`'a'` vs `1` vs `1.0` vs
 * `X'01'`), so equal results mean byte-identical rows. Ordered by `id`.
 *
 * @example
 * ```ts
 * const before = await quotedRows(env.DB, "session")
 * const bobsTokens = await quotedRows(env.DB, "direct_debit_tokens", { userId: bob.id })
 * ```
 */
export async function quotedRows(
  database: D1Database,
  table: string,
  where: Record<string, string> = {},
): Promise<Record<string, string>[]> {
  const columns = await database.prepare(`select name from pragma_table_info(?) order by cid`).bind(table).all<{ name: string }>();
  if (columns.results.length === 0) throw new Error(`no table "${table}"`);
  const select = columns.results.map(({ name }) => `quote(${ident(name)}) as ${ident(name)}`).join(", ");
  const filters = Object.keys(where).map((column) => `${ident(column)} = ?`);
  const sql = `select ${select} from ${ident(table)}${filters.length ? ` where ${filters.join(" and ")}` : ""} order by "id"`;
  return (await database.prepare(sql).bind(...Object.values(where)).all<Record<string, string>>()).results;
}

function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
