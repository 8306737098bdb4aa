import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { LedgerChangedError } from "../../src/db/migration/apply-batch";
import { runMigrations } from "../support/run-migrations";
import { barrier, waitingIn } from "../support/migration-fixtures/barrier";
import { stepMigrations } from "../support/migration-fixtures/inject-failure";
import { librarySteps } from "../support/migration-fixtures/library-migrations";
import { d1Reader } from "../support/migration-fixtures/schema-snapshot";

// The first contact is the one moment the runner writes outside the batch
// (the Migrator's ledger tables and the ledger-version row): two runs making
// it together on a brand-new database must still apply each migration once.
const read = d1Reader(env.DB);
const library = stepMigrations(librarySteps);
const NAMES = Object.keys(library).sort();

describe("two first runs on a brand-new database", () => {
  it("create the ledger once, and exactly one applies while the other reports it done by another run", async () => {
    expect(await read(`select name from sqlite_master where name like 'kysely%'`)).toEqual([]);
    const registry = waitingIn(library, NAMES[0]!, "up", barrier(2));

    const reports = await Promise.all([1, 2].map(() => runMigrations(env.DB, { verb: "latest" }, { migrations: registry })));

    const [winner, loser] = reports[0]!.error ? [reports[1]!, reports[0]!] : [reports[0]!, reports[1]!];
    expect(winner.error).toBeUndefined();
    expect(loser.error).toBeInstanceOf(LedgerChangedError);
    expect(loser.doneByAnotherRun).toBe(true);
    expect((await read(`select name from kysely_migration order by name`)).map((row) => row.name)).toEqual(NAMES);
    expect(await read(`select id, is_locked from kysely_migration_lock order by id`)).toEqual([
      { id: "ledger_version", is_locked: 1 },
      { id: "migration_lock", is_locked: 0 },
    ]);
  });
});
