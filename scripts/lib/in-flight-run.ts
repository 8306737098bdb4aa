import { readFile, rm, writeFile, mkdir } from "node:fs/promises";
import path from "node:path";
import type { MigrationInfo } from "kysely/migration";
import type { LedgerEntry } from "../../src/db/migration/ledger-entries";
import type { TargetOptions } from "./cli-flags";

/** A run whose batch was sent by a CLI process that may not live to report it. */
export interface InFlightRun {
  pid: number;
  startedAt: string;
  planned: Pick<LedgerEntry, "migrationName" | "direction">[];
}

/**
 * The file that records a run's batch while it is in flight, next to the
 * local state (or `.wrangler/` for remote). A SIGKILL cannot be caught, and
 * the local workerd then finishes the batch alone: the next CLI call reads
 * this file and reports the run's outcome from the ledger.
 *
 * @example
 * ```ts
 * await writeInFlightRun(target, { pid: process.pid, startedAt, planned })
 * ```
 */
export function inFlightRunFile(target: TargetOptions): string {
  const dir = target.remote
    ? path.join(path.dirname(target.config), ".wrangler")
    : (target.persistTo ?? path.join(path.dirname(target.config), ".wrangler", "state"));
  return path.join(dir, `kysely-migrate-in-flight-${target.remote ? "remote" : "local"}${target.env ? `-${target.env}` : ""}.json`);
}

/** Records the run about to be sent. */
export async function writeInFlightRun(target: TargetOptions, run: InFlightRun): Promise<void> {
  const file = inFlightRunFile(target);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, JSON.stringify(run), { mode: 0o600 });
}

/** Forgets the recorded run (its outcome is known and reported). */
export async function clearInFlightRun(target: TargetOptions): Promise<void> {
  await rm(inFlightRunFile(target), { force: true });
}

/**
 * The recorded run of a process that is gone, if any (a live process's run is its own to report).
 * `alive` tells whether a pid names a live process (tests replace it).
 */
export async function readOrphanedRun(target: TargetOptions, alive: (pid: number) => boolean = isAlive): Promise<InFlightRun | undefined> {
  const run = await readRun(target);
  if (!run) return undefined;
  if (run.pid === process.pid) return run;
  if (alive(run.pid)) return undefined;
  // Its process may have reported, cleared the record and exited between our
  // read and our look at it: only a record that outlives its process is an
  // orphan (a killed run, or one whose outcome was unknown, leaves it).
  const still = await readRun(target);
  return still?.pid === run.pid && still.startedAt === run.startedAt ? run : undefined;
}

async function readRun(target: TargetOptions): Promise<InFlightRun | undefined> {
  try {
    return JSON.parse(await readFile(inFlightRunFile(target), "utf8")) as InFlightRun;
  } catch {
    return undefined;
  }
}

/**
 * Report lines for an orphaned run, read from the ledger: per planned
 * migration, whether the ledger now shows it applied (or reverted).
 *
 * @example
 * ```ts
 * describeOrphanedRun(run, await listMigrations(db, migrations)) // ["note: the run of pid 123 …", "  applied  2026…"]
 * ```
 */
export function describeOrphanedRun(run: InFlightRun, ledger: readonly MigrationInfo[]): string[] {
  const applied = new Set(ledger.filter((info) => info.executedAt).map((info) => info.name));
  return [
    `note: the run started by pid ${run.pid} at ${run.startedAt} ended before it reported; the ledger now shows:`,
    ...run.planned.map(({ migrationName, direction }) => {
      const done = applied.has(migrationName) === (direction === "Up");
      return `  ${direction === "Up" ? (done ? "applied " : "not applied") : done ? "reverted" : "not reverted"} ${migrationName}`;
    }),
  ];
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
