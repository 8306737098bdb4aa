/**
 * `pnpm bench [--runs <n>]`: how long the migration runner takes, printed as a table.
 *
 * Measures, on throwaway local D1 databases (temp `--persist-to` dirs, deleted
 * afterwards), the wall time of `runMigrations` as the CLI calls it:
 * - the shipped registry: `latest` on an empty database, `down --all` back to
 *   empty, and the `sql latest` preview (nothing applied);
 * - a synthetic registry of S `create table` statements in one migration
 *   (defined here, never shipped): succeeding, for the cost per statement of
 *   the one batch, and failing at its last statement, for the cost of finding
 *   that statement by bisection (D1 does not say which statement of a batch
 *   failed, so apply-batch.ts probes prefixes: 1 + ceil(log2(S + 2)) extra batches).
 * D1 batch calls are counted by wrapping the binding's `batch()`.
 *
 * Why: a migration run is one atomic batch, and a failed one costs extra
 * batches to explain itself; these numbers say what each costs as runs grow.
 * Timings live here, printed, never asserted in tests.
 *
 * @example
 * ```sh
 * corepack pnpm -s exec tsx scripts/bench-migrations.ts --runs 20
 * ```
 */
import { sqliteWasmAnalyser } from "../src/db/migration/sqlite-wasm-analyser";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Kysely } from "kysely";
import { DEFAULT_MIGRATION_TABLE, type Migration } from "kysely/migration";
import { migrations as shippedMigrations } from "../migrations/index";
import { BatchStatementError } from "../src/db/migration/apply-batch";
import { runMigrations, type MigrationCommand, type RunMigrationsOptions } from "../src/db/migration/run-migrations";
import { exitWithError } from "./lib/exit-with-error";
import { usingD1 } from "./lib/using-d1";

const USAGE = "usage: pnpm bench [--runs <n>]  (n runs per row, default 10)";
const HELP = `${USAGE}

Times migration runs on throwaway local D1 databases and prints median and p95
per scenario: the shipped registry (latest, down --all, sql latest preview) and
a synthetic registry of S create-table statements, succeeding and failing at
its last statement (the failure is located by bisection: extra D1 batches).`;
// Bisection resends prefixes (about S·log2(S) statements per failed run), so
// S stays small enough for the default 10 runs to finish within about a minute.
const SYNTHETIC_SIZES = [10, 30, 100];

interface Row {
  scenario: string;
  timesMs: number[];
  /** D1 `batch()` calls and statements sent, per run (the same every run). */
  batches: number;
  statementsSent: number;
  /** Set on the synthetic rows: the size of the registry and whether it fails. */
  synthetic?: { size: number; failing: boolean };
  note?: string;
}

/** The binding the bench runs on, and running totals of what went through its `batch()`. */
interface CountingD1 {
  database: D1Database;
  counts: { batches: number; statements: number };
}

async function main(argv: string[]): Promise<number> {
  const parsed = parseArgs(argv);
  if (typeof parsed === "string") {
    console.error(`error: ${parsed}; ${USAGE}`);
    return 2;
  }
  if (parsed.help) {
    console.log(HELP);
    return 0;
  }
  const { runs } = parsed;
  const started = performance.now();
  const cpu = os.cpus()[0]?.model.trim() ?? "unknown CPU";
  console.log(
    `node ${process.version}, ${os.availableParallelism()} CPUs (${cpu}), ${os.platform()} ${os.arch()}, load avg ${os.loadavg()[0]!.toFixed(2)}`,
  );
  const runsText = `${runs} run${runs === 1 ? "" : "s"}`;
  console.log(`${runsText} per row after one untimed warm-up; wall time of runMigrations on a throwaway local D1`);
  console.log(`p95 is the nearest rank${runs <= 20 ? ` (with ${runsText}: the slowest)` : ""}\n`);

  // One throwaway D1 per registry, so neither registry's ledger meets the other's.
  const rows: Row[] = [];
  await withThrowawayD1(async (d1) => {
    rows.push(...(await benchShipped(d1, runs)));
  });
  await withThrowawayD1(async (d1) => {
    for (const size of SYNTHETIC_SIZES) rows.push(...(await benchSynthetic(d1, size, runs)));
  });
  printTable(rows);
  console.log(marginalCost(rows));
  console.log(`total ${((performance.now() - started) / 1000).toFixed(1)} s, including starting and stopping 2 local D1s`);
  return 0;
}

function parseArgs(argv: string[]): { runs: number; help: boolean } | string {
  let runs = 10;
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--help" || arg === "-h") help = true;
    else if (arg === "--runs") {
      const value = argv[++i];
      if (value === undefined || !/^[1-9]\d*$/.test(value)) return "--runs needs a positive whole number";
      runs = Number(value);
    } else return `unknown argument '${arg}'`;
  }
  return { runs, help };
}

/** The shipped registry: `latest` on an empty database, `down --all`, and the `sql latest` preview. */
async function benchShipped({ database, counts }: CountingD1, runs: number): Promise<Row[]> {
  const options = { migrations: shippedMigrations, analyser: sqliteWasmAnalyser() };
  const latest = newRow("shipped: latest (empty db)");
  const downAll = newRow("shipped: down --all");
  const preview = newRow("shipped: sql latest (preview)");
  // Warm-up: the first contact also creates the Migrator's ledger tables.
  await timedRun(database, { verb: "latest" }, options);
  await timedRun(database, { verb: "down-all" }, options);
  for (let run = 0; run < runs; run++) {
    await measure(latest, counts, () => timedRun(database, { verb: "latest" }, options));
    await measure(downAll, counts, () => timedRun(database, { verb: "down-all" }, options));
    await measure(preview, counts, () => timedRun(database, { verb: "latest" }, { ...options, mode: "preview" }));
  }
  return [latest, downAll, preview];
}

/** S `create table` statements in one migration: applied (then undone, untimed), and failing at the last. */
async function benchSynthetic({ database, counts }: CountingD1, size: number, runs: number): Promise<Row[]> {
  const analyser = sqliteWasmAnalyser();
  const succeeding = { migrations: syntheticRegistry(size, false), analyser };
  const failing = { migrations: syntheticRegistry(size, true), analyser };
  const applied = { ...newRow(`synthetic S=${size}: latest`), synthetic: { size, failing: false } };
  const failed = {
    ...newRow(`synthetic S=${size}: latest, fails at #${size}`),
    synthetic: { size, failing: true },
    // The first batch, then one probe of the whole run and a bisection of its S + 2 statements (framing included).
    note: `expected 1 + ${Math.ceil(Math.log2(size + 2)) + 1} probes`,
  };

  const failOnce = async () => {
    const { report, ms } = await timedRun(database, { verb: "latest" }, failing, { expectError: true });
    // Measuring anything but a located failure at the last statement would mislead.
    if (!(report.error instanceof BatchStatementError) || report.error.statementIndex !== size - 1) {
      throw new Error(`synthetic S=${size}: expected the run to fail at statement #${size}, got: ${String(report.error)}`);
    }
    return { ms };
  };
  await timedRun(database, { verb: "latest" }, succeeding);
  await undoSyntheticRun(database, size);
  await failOnce();
  for (let run = 0; run < runs; run++) {
    await measure(applied, counts, () => timedRun(database, { verb: "latest" }, succeeding));
    await undoSyntheticRun(database, size);
    await measure(failed, counts, failOnce);
  }
  return [applied, failed];
}

/**
 * One migration creating t_0 … t_{S-1}; when `failing`, its last statement
 * creates t_0 again, which fails only once the earlier ones have run.
 */
function syntheticRegistry(size: number, failing: boolean): Record<string, Migration> {
  const tables = syntheticTables(size).map((table, i) => (failing && i === size - 1 ? "t_0" : table));
  return {
    [syntheticMigrationName(size)]: {
      up: async (db: Kysely<any>) => {
        for (const table of tables) {
          await db.schema
            .createTable(table)
            .addColumn("id", "integer", (column) => column.primaryKey())
            .addColumn("name", "text", (column) => column.notNull())
            .execute();
        }
      },
    },
  };
}

const syntheticTables = (size: number) => Array.from({ length: size }, (_, i) => `t_${i}`);
const syntheticMigrationName = (size: number) => `00000000000000_bench_${size}_tables`;

/**
 * Puts the database back as it was before the succeeding run, in one raw
 * batch. Not `down --all`: its row checks read every dropped table (~0.8 s a
 * reset at S=100), which pushed the default bench past a minute.
 */
async function undoSyntheticRun(database: D1Database, size: number): Promise<void> {
  await database.batch([
    ...syntheticTables(size).map((table) => database.prepare(`drop table "${table}"`)),
    database.prepare(`delete from "${DEFAULT_MIGRATION_TABLE}" where "name" = ?`).bind(syntheticMigrationName(size)),
  ]);
}

async function timedRun(
  database: D1Database,
  command: MigrationCommand,
  options: RunMigrationsOptions,
  { expectError = false } = {},
) {
  const start = performance.now();
  const report = await runMigrations(database, command, options);
  const ms = performance.now() - start;
  if (report.error !== undefined && !expectError) throw report.error;
  return { report, ms };
}

function newRow(scenario: string): Row {
  return { scenario, timesMs: [], batches: 0, statementsSent: 0 };
}

async function measure(row: Row, counts: CountingD1["counts"], run: () => Promise<{ ms: number }>): Promise<void> {
  const before = { ...counts };
  const { ms } = await run();
  row.timesMs.push(ms);
  row.batches = counts.batches - before.batches;
  row.statementsSent = counts.statements - before.statements;
}

async function withThrowawayD1(callback: (d1: CountingD1) => Promise<void>): Promise<void> {
  const stateDir = await mkdtemp(path.join(os.tmpdir(), "bench-migrations-"));
  try {
    const target = { remote: false, env: undefined, persistTo: stateDir, config: "wrangler.toml" };
    await usingD1(target, (database) => callback(countingBatches(database)));
  } finally {
    await rm(stateDir, { recursive: true, force: true });
  }
}

/** Wraps the real binding: `batch()` is counted on its way through, everything else goes straight to it. */
function countingBatches(database: D1Database): CountingD1 {
  const counts = { batches: 0, statements: 0 };
  const counted = new Proxy(database, {
    get(target, property) {
      if (property === "batch") {
        return (statements: D1PreparedStatement[]) => {
          counts.batches++;
          counts.statements += statements.length;
          return target.batch(statements);
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { database: counted, counts };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length / 2;
  return Number.isInteger(middle) ? (sorted[middle - 1]! + sorted[middle]!) / 2 : sorted[Math.floor(middle)]!;
}

/** Nearest rank: with 10 runs, p95 is the slowest run. */
function p95(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.ceil(0.95 * sorted.length) - 1]!;
}

function printTable(rows: Row[]): void {
  const header = ["scenario", "median ms", "p95 ms", "D1 batches", "stmts sent", ""];
  const body = rows.map((row) => {
    const middle = median(row.timesMs);
    return [
      row.scenario,
      middle.toFixed(1),
      p95(row.timesMs).toFixed(1),
      String(row.batches),
      String(row.statementsSent),
      row.note ?? "",
    ];
  });
  const widths = header.map((_, column) => Math.max(...[header, ...body].map((cells) => cells[column]!.length)));
  for (const cells of [header, ...body]) {
    const line = cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!)));
    console.log(line.join("  ").trimEnd());
  }
}

/**
 * The slope between the smallest and the largest synthetic registry, which
 * cancels the fixed cost of a run (Migrator setup, ledger reads).
 */
function marginalCost(rows: Row[]): string {
  const slope = (failing: boolean) => {
    const [smallest, largest] = [SYNTHETIC_SIZES[0], SYNTHETIC_SIZES.at(-1)].map((size) =>
      rows.find((row) => row.synthetic?.size === size && row.synthetic?.failing === failing),
    );
    if (!smallest || !largest) throw new Error("no synthetic rows to compare");
    const ms = median(largest.timesMs) - median(smallest.timesMs);
    return (ms / (largest.statementsSent - smallest.statementsSent)).toFixed(2);
  };
  const range = `S=${SYNTHETIC_SIZES[0]} → S=${SYNTHETIC_SIZES.at(-1)}`;
  return `\nper statement sent (median slope, ${range}): ${slope(false)} ms in a successful batch, ${slope(true)} ms in a failed run's batches`;
}

main(process.argv.slice(2)).then((code) => process.exit(code), exitWithError);
