import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { adoptionStatements, readLedgerVersion } from "../../src/db/migration/adopt-ledger";
import { listMigrations } from "../../src/db/migration/list-migrations";

// The adoption batch on real local D1: two adopts that planned on the same ledger
// (the race of two `kysely:migrate adopt` at once) leave one set of rows.

const NAMES = ["0000_init", "0001_more"];
const registry = Object.fromEntries(NAMES.map((name) => [name, { up: async () => {} }]));

async function send(database: D1Database, statements: ReturnType<typeof adoptionStatements>) {
  await database.batch(statements.map((statement) => database.prepare(statement.sql).bind(...statement.parameters)));
}

describe("the adoption batch", () => {
  it("records the names with increasing timestamps; a second batch planned on the same ledger fails whole", async () => {
    const now = new Date("2026-12-01T10:00:00.000Z");
    const version = await readLedgerVersion(env.DB);
    expect(version).toBeUndefined();
    const first = adoptionStatements(NAMES, now, version, []);
    const second = adoptionStatements(NAMES, now, version, []);

    await send(env.DB, first);
    await expect(send(env.DB, second)).rejects.toThrow(/UNIQUE constraint failed/);

    const listed = await listMigrations(env.DB, registry);
    expect(listed.map((migration) => [migration.name, migration.executedAt?.toISOString()])).toEqual([
      ["0000_init", "2026-12-01T10:00:00.000Z"],
      ["0001_more", "2026-12-01T10:00:00.001Z"],
    ]);
    expect(await readLedgerVersion(env.DB)).toBe(1);

    // Planned after the first committed, on version 1: the version check refuses a stale plan too.
    const stale = adoptionStatements(["0002_late"], now, 0, []);
    await expect(send(env.DB, stale)).rejects.toThrow(/UNIQUE constraint failed/);
    expect((await listMigrations(env.DB, registry)).filter((migration) => migration.executedAt)).toHaveLength(2);
  });
});
