import sqlite3InitModule from "@sqlite.org/sqlite-wasm";
import { mirroredSession, sharedMirror, type MirrorEngine, type RunAnalyser, type StatementFacts } from "./run-analyser";
import { quoteIdentifier } from "./sql-identifier";

type Sqlite3 = Awaited<ReturnType<typeof sqlite3InitModule>>;
let loaded: Promise<Sqlite3> | undefined;

/**
 * The run analyser of the CLI (Node): an in-memory SQLite (SQLite-WASM) per
 * run holds the copy of the schema, and SQLite answers through its C API:
 * `sqlite3_prepare_v3`'s tail for statement boundaries, the authorizer
 * (`SQLITE_DROP_TABLE` names the table whatever the spelling), and
 * `sqlite3_stmt_readonly` / `sqlite3_column_count` for read vs write;
 * `sqlite3_expanded_sql` locates the parameters that `quote()` renders.
 *
 * @example
 * ```ts
 * await runMigrations(db, { verb: "latest" }, { migrations, analyser: sqliteWasmAnalyser() })
 * ```
 */
export function sqliteWasmAnalyser(): RunAnalyser {
  return {
    async open(schema) {
      const sqlite3 = await (loaded ??= sqlite3InitModule());
      return mirroredSession(wasmEngine(sqlite3), schema, sharedMirror());
    },
  };
}

function wasmEngine(sqlite3: Sqlite3): MirrorEngine {
  const { capi } = sqlite3;
  // The pointer helpers are missing from the package's types.
  const wasm = sqlite3.wasm as any;
  const db = new sqlite3.oo1.DB(":memory:");
  // D1 always enforces foreign keys.
  db.exec("pragma foreign_keys = on");
  let dropped: string[] | undefined;
  let schemaActions = 0;
  capi.sqlite3_set_authorizer(
    db,
    (_: number, action: number, first: string | 0) => {
      if (dropped === undefined) return 0;
      if (action === capi.SQLITE_DROP_TABLE || action === capi.SQLITE_DROP_TEMP_TABLE) dropped.push(String(first));
      if (SCHEMA_ACTIONS(capi).has(action)) schemaActions++;
      return 0;
    },
    0,
  );

  /** Prepares the first statement of `sql`; says whether text other than comments follows it. */
  const prepareFirst = (sql: string) => {
    const stack = wasm.scopedAllocPush();
    try {
      const length = wasm.jstrlen(sql);
      const ppStmt = wasm.scopedAlloc(2 * wasm.ptr.size + length + 1);
      const pzTail = wasm.ptr.add(ppStmt, wasm.ptr.size);
      const pSql = wasm.ptr.add(pzTail, wasm.ptr.size);
      wasm.jstrcpy(sql, wasm.heap8(), pSql, length, false);
      wasm.poke8(wasm.ptr.add(pSql, length), 0);
      wasm.pokePtr([ppStmt, pzTail], 0);
      const rc = capi.sqlite3_prepare_v3(db.pointer!, pSql, length, 0, ppStmt, pzTail);
      const stmt: number = wasm.peekPtr(ppStmt);
      if (rc !== 0) return { error: String(capi.sqlite3_errmsg(db.pointer!)) };
      const tail: string = wasm.cstrToJs(wasm.peekPtr(pzTail)) ?? "";
      return { stmt, tail };
    } finally {
      wasm.scopedAllocPop(stack);
    }
  };

  /** Whether `tail` holds another statement (SQLite prepares one, or fails to: either way it is not just comments). */
  const holdsStatement = (tail: string): boolean => {
    if (tail.trim() === "") return false;
    const next = prepareFirst(tail);
    if ("error" in next) return true;
    if (next.stmt) {
      capi.sqlite3_finalize(next.stmt);
      return true;
    }
    return holdsStatement(next.tail);
  };

  return {
    async inspect(sql): Promise<StatementFacts> {
      dropped = [];
      schemaActions = 0;
      try {
        const first = prepareFirst(sql);
        if ("error" in first) return { statements: 1, readonly: false, returnsRows: false, changesSchema: false, droppedTables: [], error: first.error };
        // Leading `;`s and comments: SQLite skips them, as D1 does.
        if (!first.stmt) return first.tail.trim() === "" ? empty() : this.inspect(first.tail, []);
        const facts: StatementFacts = {
          statements: 1,
          readonly: capi.sqlite3_stmt_readonly(first.stmt) !== 0,
          // ALTER TABLE programs may hold result rows of their own checks (ADD
          // COLUMN … NOT NULL raises unless the table is empty); a schema change never returns rows.
          returnsRows: schemaActions === 0 && capi.sqlite3_column_count(first.stmt) > 0,
          changesSchema: schemaActions > 0,
          droppedTables: [...dropped],
        };
        capi.sqlite3_finalize(first.stmt);
        dropped = undefined;
        if (holdsStatement(first.tail)) facts.statements = 2;
        return facts;
      } finally {
        dropped = undefined;
      }
    },
    async run(sql, parameters) {
      db.exec({ sql, bind: parameters.length > 0 ? (parameters as any[]) : undefined });
    },
    async all<T>(sql: string) {
      return db.exec({ sql, rowMode: "object", returnValue: "resultRows" }) as T[];
    },
    async runThenAll<T>(sql: string, parameters: readonly unknown[], then: string) {
      db.exec({ sql, bind: parameters.length > 0 ? (parameters as any[]) : undefined });
      return db.exec({ sql: then, rowMode: "object", returnValue: "resultRows" }) as T[];
    },
    inlines: true,
    async inline(sql, parameters) {
      let stmt;
      try {
        stmt = db.prepare(sql);
      } catch {
        return undefined;
      }
      try {
        // SQLite places the parameters: bind each to a marker no SQL text can
        // hold, expand, then swap each marker's literal for quote() of the value.
        const markers = parameters.map(() => `__parameter_${crypto.randomUUID()}__`);
        stmt.bind(markers);
        let text = capi.sqlite3_expanded_sql(stmt.pointer!) ?? "";
        for (const [index, marker] of markers.entries()) {
          const literal = String(db.selectValue("select quote(?)", [toBindable(parameters[index]) as never]));
          text = text.replace(`'${marker}'`, () => literal);
        }
        return text;
      } finally {
        stmt.finalize();
      }
    },
    async load(schema) {
      db.exec("pragma foreign_keys = off");
      const objects = db.exec({ sql: `select type, name from sqlite_master where type in ('table', 'view') and name not like 'sqlite\\_%' escape '\\'`, rowMode: "object", returnValue: "resultRows" }) as { type: string; name: string }[];
      for (const { type, name } of objects) db.exec(`drop ${type} if exists ${quoteIdentifier(name)}`);
      db.exec("pragma foreign_keys = on");
      for (const sql of schema) db.exec(sql);
    },
  };
}

function empty(): StatementFacts {
  return { statements: 0, readonly: true, returnsRows: false, changesSchema: false, droppedTables: [] };
}

function toBindable(value: unknown): unknown {
  if (value === undefined) return null;
  if (typeof value === "boolean") return value ? 1 : 0;
  if (value instanceof Date) return value.toISOString();
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  return value;
}

let schemaActionCodes: Set<number> | undefined;
function SCHEMA_ACTIONS(capi: Sqlite3["capi"]): Set<number> {
  return (schemaActionCodes ??= new Set(
    [
      "SQLITE_CREATE_INDEX", "SQLITE_CREATE_TABLE", "SQLITE_CREATE_TEMP_INDEX", "SQLITE_CREATE_TEMP_TABLE",
      "SQLITE_CREATE_TEMP_TRIGGER", "SQLITE_CREATE_TEMP_VIEW", "SQLITE_CREATE_TRIGGER", "SQLITE_CREATE_VIEW",
      "SQLITE_DROP_INDEX", "SQLITE_DROP_TABLE", "SQLITE_DROP_TEMP_INDEX", "SQLITE_DROP_TEMP_TABLE",
      "SQLITE_DROP_TEMP_TRIGGER", "SQLITE_DROP_TEMP_VIEW", "SQLITE_DROP_TRIGGER", "SQLITE_DROP_VIEW",
      "SQLITE_ALTER_TABLE", "SQLITE_CREATE_VTABLE", "SQLITE_DROP_VTABLE",
    ].map((name) => (capi as unknown as Record<string, number>)[name]!),
  ));
}
