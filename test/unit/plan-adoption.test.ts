import { describe, expect, it } from "vitest";
import { planAdoption, type AdoptionInput, type AdoptionPlan } from "../../src/db/migration/plan-adoption";

const registry = ["0000_auth", "0001_projects", "0002_notes", "20261124120000_better_auth", "20261124130000_billing_tables"];
const sources = new Map([
  ["0000_auth", { ledgerName: "0000_auth.sql", sha256: "a0", file: "migrations/d1/0000_auth.sql" }],
  ["0001_projects", { ledgerName: "0001_projects.sql", sha256: "a1", file: "migrations/d1/0001_projects.sql" }],
  ["0002_notes", { ledgerName: "0002_notes", sha256: "a2", file: "migrations/d1/0002_notes/migration.sql" }],
]);
const wrangler = (...names: string[]) => ({ kind: "wrangler" as const, table: "d1_migrations", names });
const base = { registry, sources, runnerApplied: [] };

// The adoption rules, one row each: input → plan.
const table: [string, Omit<AdoptionInput, "registry" | "sources">, AdoptionPlan][] = [
  ["wrangler's ledger by file name, with the baseline", { ledgers: [wrangler("0000_auth.sql", "0001_projects.sql")], runnerApplied: [], baseline: "20261124120000_better_auth" }, { kind: "refuse", lines: [
    "error: 0002_notes sorts before 20261124120000_better_auth, which the database has applied, but no ledger lists 0002_notes as applied",
    "  to proceed: if the database really has 0002_notes's changes, add it to the old ledger; otherwise rename it to sort after 20261124120000_better_auth; nothing was adopted",
  ] }],
  ["wrangler's ledger, a prefix, no Better Auth tables", { ledgers: [wrangler("0001_projects.sql", "0000_auth.sql")], runnerApplied: [] }, { kind: "adopt", names: ["0000_auth", "0001_projects"] }],
  ["drizzle-orm's ledger by hash, with the baseline", { ledgers: [{ kind: "drizzle", table: "__drizzle_migrations", hashes: ["a0", "a1", "a2"] }], runnerApplied: [], baseline: "20261124120000_better_auth" }, { kind: "adopt", names: ["0000_auth", "0001_projects", "0002_notes", "20261124120000_better_auth"] }],
  ["an unknown name refuses, naming it", { ledgers: [wrangler("0000_auth.sql", "0001_renamed.sql")], runnerApplied: [] }, { kind: "refuse", lines: [
    "error: d1_migrations lists 0001_renamed.sql as applied, but no registered SQL migration has that file name",
    "  to proceed: copy 0001_renamed.sql unchanged (same name) from the old migrations folder into the migrations_dir and run 'pnpm migrations:d1'; nothing was adopted",
  ] }],
  ["an unknown hash refuses, naming it", { ledgers: [{ kind: "drizzle", table: "__drizzle_migrations", hashes: ["ff"] }], runnerApplied: [] }, { kind: "refuse", lines: [
    "error: __drizzle_migrations lists a migration with hash ff as applied, but no registered SQL migration's file has that SHA-256 (drizzle-orm records hashes, not names)",
    "  to proceed: copy drizzle-kit's output folders unchanged (byte for byte) into the migrations_dir and run 'pnpm migrations:d1'; nothing was adopted",
  ] }],
  ["nothing to adopt", { ledgers: [], runnerApplied: [] }, { kind: "nothing" }],
  ["a second adopt", { ledgers: [wrangler("0000_auth.sql")], runnerApplied: ["0000_auth", "0001_projects"] }, { kind: "already", names: ["0000_auth"] }],
  ["a runner ledger that disagrees", { ledgers: [wrangler("0000_auth.sql", "0001_projects.sql")], runnerApplied: ["0000_auth"] }, { kind: "refuse", lines: [
    "error: the runner's ledger already lists 0000_auth, but not 0001_projects, which the old ledger lists",
    "  to proceed: adopt works on a database the runner has not migrated yet; compare 'pnpm kysely:migrate list' with the old ledger; nothing was adopted",
  ] }],
];

describe("planAdoption", () => {
  it.each(table)("%s", (_, input, plan) => {
    expect(planAdoption({ ...base, ...input })).toEqual(plan);
  });
});
