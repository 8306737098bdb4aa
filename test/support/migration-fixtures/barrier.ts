import type { Kysely } from "kysely";
import type { Migration } from "kysely/migration";

/**
 * A meeting point for `parties` concurrent callers: each `arrive()` resolves
 * once all have arrived, or rejects after `timeoutMs` so a test cannot hang.
 *
 * @example
 * ```ts
 * const arrive = barrier(2)
 * await Promise.all([arrive(), arrive()])
 * ```
 */
export function barrier(parties: number, timeoutMs = 10_000): () => Promise<void> {
  let arrived = 0;
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return async () => {
    if (++arrived === parties) open();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`barrier: ${arrived} of ${parties} arrived`)), timeoutMs);
    });
    try {
      await Promise.race([opened, timeout]);
    } finally {
      clearTimeout(timer);
    }
  };
}

/**
 * The registry with `name`'s `up` (or `down`) first waiting at `arrive`: runs
 * started together each read the ledger and plan before any of them commits.
 *
 * @example
 * ```ts
 * const registry = waitingIn(migrations, "20000101000000_create_library", "up", barrier(2))
 * ```
 */
export function waitingIn(
  migrations: Record<string, Migration>,
  name: string,
  direction: "up" | "down",
  arrive: () => Promise<void>,
): Record<string, Migration> {
  const migration = migrations[name];
  const original = migration?.[direction];
  if (!migration || !original) throw new Error(`waitingIn: ${name} has no ${direction}`);
  const waiting = async (db: Kysely<any>) => {
    await arrive();
    await original(db);
  };
  return { ...migrations, [name]: { ...migration, [direction]: waiting } };
}
