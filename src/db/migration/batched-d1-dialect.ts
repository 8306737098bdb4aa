import {
  SqliteAdapter,
  SqliteQueryCompiler,
  type CompiledQuery,
  type DatabaseConnection,
  type DatabaseIntrospector,
  type Dialect,
  type Driver,
  type Kysely,
  type MigrationLockOptions,
  type QueryResult,
} from "kysely";
import { D1Introspector } from "../d1-introspector";
import { classifyMigrationQuery } from "./classify-migration-query";
import { readLiveSchema, type AnalysisSession, type RunAnalyser, type StatementEffect } from "./run-analyser";

/** A write the migrator buffered instead of executing. */
export interface BufferedStatement {
  sql: string;
  parameters: readonly unknown[];
  /** The statement with its parameters inlined by SQLite, when the run's analyser can render it. */
  inlined?: string;
}

/** One migration run's writes, handed over when the Migrator commits. */
export interface BufferedRun {
  /** Every write of the run, in order. */
  statements: BufferedStatement[];
  /** The ledger version read when the run started; see {@link LEDGER_VERSION_ROW}. */
  ledgerVersion: number;
  /** Per statement, what SQLite says it did to a copy of the schema. */
  effects: StatementEffect[];
}

/** Receives a run's buffered writes. Throwing rolls the whole run back. */
export type CommitBuffer = (run: BufferedRun) => Promise<void>;

/**
 * Row of `kysely_migration_lock` whose `is_locked` column counts committed runs.
 *
 * Kysely's SQLite lock is a no-op, so concurrency is optimistic instead: every
 * run reads this version first, and its batch starts with a statement that
 * fails when the version moved (another run committed in between) and ends by
 * bumping it. Kysely itself only uses the row `migration_lock`.
 */
export const LEDGER_VERSION_ROW = "ledger_version";

export interface BatchedD1DialectConfig {
  database: D1Database;
  /** Applies (or captures) the buffered writes. */
  commit: CommitBuffer;
  /** Reads each query with SQLite; see {@link RunAnalyser}. */
  analyser: RunAnalyser;
}

/**
 * The migration dialect: gives Kysely's `Migrator` an all-or-nothing run on D1.
 *
 * D1 has no interactive transactions, but `D1Database.batch()` is atomic. So
 * this dialect reports transactional DDL, and inside the Migrator's
 * "transaction" it runs reads at once and buffers every write; the commit hands
 * the buffer to `commit` (normally one `batch()`), a rollback discards it.
 *
 * The one rule this imposes: a migration must not read rows it wrote itself in
 * the same run, because those writes have not happened yet (so a write with
 * `RETURNING` is refused, as is a query holding several statements).
 *
 * @example
 * ```ts
 * const db = new Kysely<any>({
 *   dialect: new BatchedD1Dialect({ database: env.DB, commit: (s) => applyBatch(env.DB, s) }),
 * })
 * await new Migrator({ db, provider }).migrateToLatest()
 * ```
 */
export class BatchedD1Dialect implements Dialect {
  readonly #config: BatchedD1DialectConfig;
  // Shared by adapter (which reads the ledger version) and driver (which commits).
  readonly #runState: RunState = { ledgerVersion: 0 };

  constructor(config: BatchedD1DialectConfig) {
    this.#config = config;
  }

  createAdapter(): SqliteAdapter {
    return new BatchedD1Adapter(this.#runState);
  }

  createDriver(): Driver {
    return new BatchedD1Driver(this.#config, this.#runState);
  }

  createQueryCompiler(): SqliteQueryCompiler {
    return new SqliteQueryCompiler();
  }

  createIntrospector(db: Kysely<any>): DatabaseIntrospector {
    return new D1Introspector(db);
  }
}

interface RunState {
  ledgerVersion: number;
}

class BatchedD1Adapter extends SqliteAdapter {
  readonly #runState: RunState;

  constructor(runState: RunState) {
    super();
    this.#runState = runState;
  }

  // True because the driver's transaction is one atomic D1 batch.
  override get supportsTransactionalDdl(): boolean {
    return true;
  }

  // A connection is a stateless handle over the binding (D1 orders queries
  // itself). Kysely would otherwise serialise connections, and the commit
  // hook's immediate reads would wait forever for the Migrator's connection.
  override get supportsMultipleConnections(): boolean {
    return true;
  }

  // The Migrator calls this after creating its tables and before reading the
  // ledger: the right moment to note the version this run is based on.
  override async acquireMigrationLock(db: Kysely<any>, options: MigrationLockOptions): Promise<void> {
    await db
      .insertInto(options.lockTable)
      .values({ id: LEDGER_VERSION_ROW, is_locked: 0 })
      .onConflict((oc) => oc.column("id").doNothing())
      .execute();
    const row = await db
      .selectFrom(options.lockTable)
      .select("is_locked")
      .where("id", "=", LEDGER_VERSION_ROW)
      .executeTakeFirstOrThrow();
    this.#runState.ledgerVersion = Number(row.is_locked);
  }
}

class BatchedD1Driver implements Driver {
  readonly #config: BatchedD1DialectConfig;
  readonly #runState: RunState;

  constructor(config: BatchedD1DialectConfig, runState: RunState) {
    this.#config = config;
    this.#runState = runState;
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<BatchedD1Connection> {
    return new BatchedD1Connection(this.#config.database);
  }

  async beginTransaction(connection: BatchedD1Connection): Promise<void> {
    const { database, analyser } = this.#config;
    connection.startBuffering(await analyser.open(await readLiveSchema(database)));
  }

  async commitTransaction(connection: BatchedD1Connection): Promise<void> {
    await this.#config.commit({ ...connection.takeBuffer(), ledgerVersion: this.#runState.ledgerVersion });
  }

  async rollbackTransaction(connection: BatchedD1Connection): Promise<void> {
    connection.takeBuffer();
  }

  async releaseConnection(): Promise<void> {}

  async destroy(): Promise<void> {}
}

class BatchedD1Connection implements DatabaseConnection {
  readonly #database: D1Database;
  #buffer: { session: AnalysisSession; statements: BufferedStatement[]; effects: StatementEffect[] } | undefined;

  constructor(database: D1Database) {
    this.#database = database;
  }

  startBuffering(session: AnalysisSession): void {
    this.#buffer = { session, statements: [], effects: [] };
  }

  takeBuffer(): { statements: BufferedStatement[]; effects: StatementEffect[] } {
    const { statements = [], effects = [] } = this.#buffer ?? {};
    this.#buffer = undefined;
    return { statements, effects };
  }

  async executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    const buffer = this.#buffer;
    const kind = buffer && (await classifyMigrationQuery(compiledQuery, buffer.session));
    if (buffer && kind !== "read") {
      const statement: BufferedStatement = { sql: compiledQuery.sql, parameters: compiledQuery.parameters };
      const effect = await buffer.session.apply(statement, kind === "data" || kind === "index" ? { builderKind: kind } : {});
      buffer.statements.push(effect.inlined === undefined ? statement : { ...statement, inlined: effect.inlined });
      buffer.effects.push(effect);
      return { rows: [] };
    }
    const result = await this.#database
      .prepare(compiledQuery.sql)
      .bind(...compiledQuery.parameters)
      .all<R>();
    const changes = result.meta.changes;
    return {
      rows: result.results ?? [],
      numAffectedRows: changes > 0 ? BigInt(changes) : undefined,
      insertId: result.meta.last_row_id == null ? undefined : BigInt(result.meta.last_row_id),
    };
  }

  // eslint-disable-next-line require-yield
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error("D1 does not support streaming queries");
  }
}
