import { sql, type Kysely } from "kysely";
import type { Migration } from "kysely/migration";

/** One statement of a test migration. */
export type Step = (db: Kysely<any>) => Promise<unknown>;

/** A test migration written as its statements, one step each, so a test can replace any one of them. */
export interface StepMigration {
  up: readonly Step[];
  down: readonly Step[];
}

/** The table the injected statement writes to; no test database has it. */
export const INJECTED_FAILURE_TABLE = "__injected_failure__";

/**
 * A registry of Kysely migrations running the given steps in order.
 *
 * @example
 * ```ts
 * await runMigrations(env.DB, { verb: "latest" }, { migrations: stepMigrations(librarySteps) })
 * ```
 */
export function stepMigrations(steps: Record<string, StepMigration>): Record<string, Migration> {
  return withInjectedFailure(steps, "up", undefined);
}

/**
 * The same registry with a failing write slipped in just before the `k`-th
 * step of the run's `up` (or `down`) functions, counted from 0 in the order
 * the run executes them: an insert into a missing table, which the runner
 * captures like any other statement and which fails only when D1 executes the
 * batch. The run's other statements stay as they are, so the guards see the
 * same run.
 *
 * @example
 * ```ts
 * await runMigrations(env.DB, { verb: "latest" }, { migrations: withInjectedFailure(librarySteps, "up", 3) })
 * ```
 */
export function withInjectedFailure(
  steps: Record<string, StepMigration>,
  direction: "up" | "down",
  k: number | undefined,
): Record<string, Migration> {
  let executed = 0;
  const run = async (db: Kysely<any>, list: readonly Step[], counted: boolean) => {
    for (const step of list) {
      if (counted && executed++ === k) {
        await sql`insert into ${sql.id(INJECTED_FAILURE_TABLE)} ("beforeStep") values (${k})`.execute(db);
      }
      await step(db);
    }
  };
  return Object.fromEntries(
    Object.entries(steps).map(([name, migration]) => [
      name,
      {
        up: (db: Kysely<any>) => run(db, migration.up, direction === "up"),
        down: (db: Kysely<any>) => run(db, migration.down, direction === "down"),
      },
    ]),
  );
}

/** How many statements the run of every migration's `up` (or `down`) holds, ledger rows aside. */
export function countSteps(steps: Record<string, StepMigration>, direction: "up" | "down"): number {
  return Object.values(steps).reduce((total, migration) => total + migration[direction].length, 0);
}
