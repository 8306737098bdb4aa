import type { BufferedStatement } from "./batched-d1-dialect";
import type { OnDeleteAction } from "./read-foreign-keys";

/** What SQLite says about one SQL string, prepared against the run's schema so far (never run on the real database). */
export interface StatementFacts {
  /** How many statements SQLite finds in the string (2 means "more than one"). */
  statements: number;
  /** Writes no database content (`sqlite3_stmt_readonly`). */
  readonly: boolean;
  /** Produces result rows (has result columns). */
  returnsRows: boolean;
  /** Creates, drops or alters a schema object. */
  changesSchema: boolean;
  /** Tables the statement drops, as SQLite resolved the name. */
  droppedTables: string[];

  /** SQLite could not prepare it against the copy (the real batch will report why). */
  error?: string;
}

/** One table of the copy: its columns in order and the tables it references. */
export interface MirrorTable {
  name: string;
  columns: string[];
  foreignKeys: { parent: string; onDelete: OnDeleteAction }[];
  /** Columns that are NOT NULL with no default: an insert must name them. */
  required: string[];
  /** The column lists of its UNIQUE constraints and unique indexes (primary key excluded). */
  uniques: string[][];
}

/** What one buffered write did to the copy of the schema. */
export interface StatementEffect {
  facts: StatementFacts;
  /** Tables before the statement ran (every table, as the copy held them). */
  before: MirrorTable[];
  /** Tables after it ran. */
  after: MirrorTable[];
  /** The statement with its parameters inlined as SQLite literals, when the analyser can render it. */
  inlined?: string;
  /**
   * What SQLite said when the copy refused the schema change (it prepared, but
   * failing to run it against the schema at that point: a dropped column a
   * CHECK still names, …). The real batch fails on it too; lint reports it.
   */
  refused?: string;
}

/**
 * The engine a {@link RunAnalyser} runs on: a SQLite database holding a copy
 * of the live schema (no rows), which only ever sees the run's schema changes.
 */
export interface MirrorEngine {
  /** Asks SQLite about `sql` without running it. */
  inspect(sql: string, parameters: readonly unknown[]): Promise<StatementFacts>;
  /** Runs a schema change on the copy. */
  run(sql: string, parameters: readonly unknown[]): Promise<void>;
  /** Runs a schema change on the copy, then the read `then`, in one round trip where the engine can (nothing of either when the change fails). */
  runThenAll<T>(sql: string, parameters: readonly unknown[], then: string): Promise<T[]>;
  /** Runs a read on the copy. */
  all<T>(sql: string): Promise<T[]>;
  /** Whether {@link inline} renders anything. */
  readonly inlines: boolean;
  /** The statement with its parameters inlined by SQLite (`undefined` if this engine cannot). */
  inline(sql: string, parameters: readonly unknown[]): Promise<string | undefined>;
  /** Replaces everything in the copy with `schema` (CREATE statements, no rows). */
  load(schema: readonly string[]): Promise<void>;
}

/** One run's view of the copy: classify queries, replay writes, report what each did. */
export interface AnalysisSession {
  inspect(sql: string, parameters: readonly unknown[]): Promise<StatementFacts>;
  /**
   * Replays a buffered write on the copy (schema changes only) and reports its
   * effect. `builderKind`, from the query builder's node, spares asking SQLite
   * what cannot change tables: `data` (INSERT, UPDATE, DELETE) never changes
   * the schema, `index` (CREATE/DROP INDEX) changes no table.
   */
  apply(statement: BufferedStatement, options?: { builderKind?: "data" | "index" }): Promise<StatementEffect>;
}

/**
 * Reads a migration run with SQLite itself: the runner's analyser, passed in
 * because what can host an embedded SQLite differs by place (SQLite-WASM in
 * Node; a scratch local D1 inside workerd, which cannot compile WebAssembly
 * at run time).
 */
export interface RunAnalyser {
  /** Starts a session over a copy of `schema` (the live `sqlite_master.sql` texts, tables first). */
  open(schema: readonly string[]): Promise<AnalysisSession>;
}

/**
 * A session over an engine that several sessions may share (the scratch D1 is
 * one database per binding, and runs may interleave): before each call the
 * copy is rebuilt for this session unless it is already this session's.
 */
export function mirroredSession(engine: MirrorEngine, schema: readonly string[], shared: SharedMirror): AnalysisSession {
  const owner = Symbol("run");
  const applied: BufferedStatement[] = [];
  // The copy's tables as of the last change; only schema changes alter them.
  let current: MirrorTable[] | undefined;
  const sync = async () => {
    if (shared.owner === owner && shared.applied === applied.length) return;
    await engine.load(schema);
    for (const statement of applied) await engine.run(statement.sql, statement.parameters).catch(() => {});
    shared.owner = owner;
    shared.applied = applied.length;
  };
  return {
    inspect: (sql, parameters) => shared.lock(async () => {
      await sync();
      return engine.inspect(sql, parameters);
    }),
    apply: (statement, { builderKind } = {}) => shared.lock(async () => {
      if (builderKind === "data" && current && !(engine.inlines && statement.parameters.length > 0)) {
        return { facts: { statements: 1, readonly: false, returnsRows: false, changesSchema: false, droppedTables: [] }, before: current, after: current };
      }
      await sync();
      if (builderKind === "index" && current) {
        const before = current;
        applied.push(statement);
        // Read again: a unique index adds to its table's `uniques`.
        current = await runThenReadTables(engine, statement).catch(() => readMirrorTables(engine));
        shared.applied = applied.length;
        return { facts: { statements: 1, readonly: false, returnsRows: false, changesSchema: true, droppedTables: [] }, before, after: current };
      }
      const facts = await engine.inspect(statement.sql, statement.parameters);
      const before = (current ??= await readMirrorTables(engine));
      const inlined = statement.parameters.length > 0 && !facts.error ? await engine.inline(statement.sql, statement.parameters) : undefined;
      let refused: string | undefined;
      if (facts.changesSchema && !facts.error) {
        applied.push(statement);
        current = await runThenReadTables(engine, statement).catch(async () => {
          // A statement the copy refuses fails the real batch too, which reports it; lint says so first.
          // Run alone again for SQLite's own words (the failed round trip changed nothing).
          await engine.run(statement.sql, statement.parameters).catch((error: unknown) => {
            refused = error instanceof Error ? error.message : String(error);
          });
          return readMirrorTables(engine);
        });
        shared.applied = applied.length;
      } else if (facts.changesSchema) {
        current = await readMirrorTables(engine);
      }
      const after = facts.changesSchema ? current : before;
      return { facts, before, after, ...(inlined !== undefined && { inlined }), ...(refused !== undefined && { refused }) };
    }),
  };
}

/** Who holds a shared copy, how far it is replayed, and a lock serialising its use. */
export interface SharedMirror {
  owner: symbol | undefined;
  applied: number;
  lock<T>(task: () => Promise<T>): Promise<T>;
}

/** A fresh {@link SharedMirror}. */
export function sharedMirror(): SharedMirror {
  let tail: Promise<unknown> = Promise.resolve();
  return {
    owner: undefined,
    applied: 0,
    lock<T>(task: () => Promise<T>): Promise<T> {
      const result = tail.then(task, task);
      tail = result.catch(() => {});
      return result;
    },
  };
}

/** Each table of the copy with its columns, foreign keys, required columns and uniques, in one read. */
const MIRROR_TABLES_SQL = `select m.name as name,
       (select json_group_array(c.name) from (select name from pragma_table_info(m.name) order by cid) c) as columns,
       (select json_group_array(json_object('parent', f."table", 'onDelete', upper(f.on_delete))) from pragma_foreign_key_list(m.name) f) as foreignKeys,
       (select json_group_array(c.name) from (select name from pragma_table_info(m.name) where "notnull" = 1 and (dflt_value is null or upper(trim(dflt_value, '() ')) = 'NULL') order by cid) c) as required,
       (select json_group_array(json(u.columns)) from (
          select (select json_group_array(ii.name) from (select name from pragma_index_info(il.name) order by seqno) ii) as columns
          from pragma_index_list(m.name) il where il."unique" = 1 and il.origin != 'pk') u) as uniques
     from sqlite_master m
     where m.type = 'table' and m.name not like 'sqlite\\_%' escape '\\' and m.name not like '\\_cf\\_%' escape '\\'
     order by m.name`;

interface MirrorTableRow {
  name: string;
  columns: string;
  foreignKeys: string;
  required: string;
  uniques: string;
}

async function readMirrorTables(engine: MirrorEngine): Promise<MirrorTable[]> {
  return mirrorTables(await engine.all<MirrorTableRow>(MIRROR_TABLES_SQL));
}

async function runThenReadTables(engine: MirrorEngine, statement: BufferedStatement): Promise<MirrorTable[]> {
  return mirrorTables(await engine.runThenAll<MirrorTableRow>(statement.sql, statement.parameters, MIRROR_TABLES_SQL));
}

function mirrorTables(rows: MirrorTableRow[]): MirrorTable[] {
  return rows.map((row) => ({
    name: row.name,
    columns: JSON.parse(row.columns),
    foreignKeys: JSON.parse(row.foreignKeys),
    required: JSON.parse(row.required),
    uniques: JSON.parse(row.uniques),
  }));
}

/**
 * The live database's schema as SQL, tables first (views and triggers may
 * name them), for {@link RunAnalyser.open}.
 */
export async function readLiveSchema(database: D1Database): Promise<string[]> {
  const { results } = await database
    .prepare(
      `select sql from sqlite_master
       where sql is not null and name not like 'sqlite\\_%' escape '\\' and name not like '\\_cf\\_%' escape '\\'
       order by case type when 'table' then 0 when 'index' then 1 when 'view' then 2 else 3 end, rowid`,
    )
    .all<{ sql: string }>();
  return results.map((row) => row.sql);
}
