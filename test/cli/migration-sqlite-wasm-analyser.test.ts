import { describe, expect, it } from "vitest";
import { sqliteWasmAnalyser } from "../../src/db/migration/sqlite-wasm-analyser";
import { statementText } from "../../src/db/migration/statement-text";
import { CORPUS_SCHEMA, HOSTILE_SQL } from "../support/migration-fixtures/hostile-sql-corpus";

// The CLI's analyser (SQLite-WASM in Node) on the same corpus the workerd
// runner is tested with: the class of each query and the tables SQLite says it drops.
describe("SQLite-WASM analyser", () => {
  it.each(HOSTILE_SQL.map((entry) => [JSON.stringify(entry.sql), entry] as const))("%s", async (_, entry) => {
    const session = await sqliteWasmAnalyser().open(CORPUS_SCHEMA);
    const classes: string[] = [];
    const drops: string[] = [];
    for (const sql of Array.isArray(entry.sql) ? entry.sql : [entry.sql]) {
      const facts = await session.inspect(sql, []);
      const kind = facts.statements > 1 ? "several" : facts.error ? "write" : facts.readonly && facts.returnsRows ? "read" : facts.returnsRows ? "returning" : "write";
      classes.push(kind);
      if (kind === "write") drops.push(...(await session.apply({ sql, parameters: [] })).facts.droppedTables.map((name) => name.toLowerCase()));
    }
    expect(new Set(classes)).toEqual(new Set([entry.class]));
    expect(drops).toEqual(entry.drops ?? []);
  });

  it("inlines parameters where SQLite places them, past comments holding quotes and question marks", async () => {
    const session = await sqliteWasmAnalyser().open(CORPUS_SCHEMA);
    const statement = { sql: `-- don't forget? it's 'tricky'\ninsert into "note" ("id", "body") values (?, ?) /* ? */`, parameters: [7, "it's\nok"] };

    const effect = await session.apply(statement);

    expect(statementText({ ...statement, inlined: effect.inlined })).toBe(
      `-- don't forget? it's 'tricky'\ninsert into "note" ("id", "body") values (7, 'it''s\nok') /* ? */`,
    );
  });
});
