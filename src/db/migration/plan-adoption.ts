/** An existing migration ledger another tool kept in the database. */
export type OldLedger =
  /** wrangler's (`d1 migrations apply`): applied file names, e.g. `0000_init.sql`. */
  | { kind: "wrangler"; table: string; names: readonly string[] }
  /** drizzle-orm's `migrate()`: SHA-256 of each applied `migration.sql`, no names. */
  | { kind: "drizzle"; table: string; hashes: readonly string[] };

/** What `adopt` needs to know of a registered SQL-file migration. */
export interface AdoptableSource {
  /** The name wrangler's ledger gives it. */
  ledgerName: string;
  /** SHA-256 of the file, as drizzle-orm's ledger records it. */
  sha256: string;
  file: string;
}

export interface AdoptionInput {
  /** Every registered migration name, in run order. */
  registry: readonly string[];
  /** The registered SQL-file migrations, by name. */
  sources: ReadonlyMap<string, AdoptableSource>;
  ledgers: readonly OldLedger[];
  /** What the runner's own ledger already lists. */
  runnerApplied: readonly string[];
  /** The baseline to record as well (Better Auth's tables exist and pass its schema check). */
  baseline?: string;
}

export type AdoptionPlan =
  | { kind: "adopt"; names: string[] }
  /** Every migration to adopt is in the runner's ledger already: a second adopt. */
  | { kind: "already"; names: string[] }
  /** No old ledger and no baseline to record. */
  | { kind: "nothing" }
  | { kind: "refuse"; lines: string[] };

/**
 * Which migrations `adopt` records as applied: those the old ledgers name (by
 * file name in wrangler's, by file hash in drizzle-orm's), plus the baseline.
 * They must be the first migrations of the registry, in order, because Kysely
 * applies in name order only. Pure: the rules in one table.
 *
 * @example
 * ```ts
 * planAdoption({ registry, sources, ledgers: [{ kind: "wrangler", table: "d1_migrations", names: ["0000_init.sql"] }], runnerApplied: [] })
 * ```
 */
export function planAdoption({ registry, sources, ledgers, runnerApplied, baseline }: AdoptionInput): AdoptionPlan {
  const byLedgerName = new Map([...sources].map(([name, source]) => [source.ledgerName, name]));
  const byHash = new Map([...sources].map(([name, source]) => [source.sha256, name]));
  const adopted = new Set<string>(baseline ? [baseline] : []);
  for (const ledger of ledgers) {
    if (ledger.kind === "wrangler") {
      for (const ledgerName of ledger.names) {
        const name = byLedgerName.get(ledgerName);
        if (!name) {
          return refuse(
            `error: ${ledger.table} lists ${ledgerName} as applied, but no registered SQL migration has that file name`,
            `  to proceed: copy ${ledgerName} unchanged (same name) from the old migrations folder into the migrations_dir and run 'pnpm migrations:d1'; nothing was adopted`,
          );
        }
        adopted.add(name);
      }
    } else {
      for (const hash of ledger.hashes) {
        const name = byHash.get(hash);
        if (!name) {
          return refuse(
            `error: ${ledger.table} lists a migration with hash ${hash} as applied, but no registered SQL migration's file has that SHA-256 (drizzle-orm records hashes, not names)`,
            "  to proceed: copy drizzle-kit's output folders unchanged (byte for byte) into the migrations_dir and run 'pnpm migrations:d1'; nothing was adopted",
          );
        }
        adopted.add(name);
      }
    }
  }
  if (adopted.size === 0) return { kind: "nothing" };
  const names = registry.filter((name) => adopted.has(name));
  const last = names.at(-1)!;
  const gap = registry.slice(0, registry.indexOf(last)).find((name) => !adopted.has(name));
  if (gap) {
    return refuse(
      `error: ${gap} sorts before ${last}, which the database has applied, but no ledger lists ${gap} as applied`,
      `  to proceed: if the database really has ${gap}'s changes, add it to the old ledger; otherwise rename it to sort after ${last}; nothing was adopted`,
    );
  }
  if (runnerApplied.length > 0) {
    if (names.every((name) => runnerApplied.includes(name))) return { kind: "already", names };
    return refuse(
      `error: the runner's ledger already lists ${runnerApplied.join(", ")}, but not ${names.find((name) => !runnerApplied.includes(name))}, which the old ledger lists`,
      "  to proceed: adopt works on a database the runner has not migrated yet; compare 'pnpm kysely:migrate list' with the old ledger; nothing was adopted",
    );
  }
  return { kind: "adopt", names };
}

function refuse(...lines: string[]): AdoptionPlan {
  return { kind: "refuse", lines };
}
