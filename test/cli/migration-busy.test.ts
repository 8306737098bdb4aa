import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterEach, describe, expect, it } from "vitest";
import { migrations } from "../../migrations/index";
import { kyselyMigrate } from "../../scripts/commands/kysely-migrate";
import { usingD1 } from "../../scripts/lib/using-d1";
import { runMigrations } from "../../src/db/migration/run-migrations";
import { sqliteWasmAnalyser } from "../../src/db/migration/sqlite-wasm-analyser";
import { localD1File } from "./local-d1-file";

// Two local runs are two workerd processes on one SQLite file, and workerd does
// not wait for a lock: the CLI's binding must, so that a run never ends in
// SQLITE_BUSY or an internal error but in "applied" or "applied by another run".

const NAMES = Object.keys(migrations).sort();
let dir = "";
afterEach(() => rm(dir, { recursive: true, force: true }));

describe("local runs on a database another process holds", () => {
  it("a run that finds the file locked by another writer waits, then applies", async () => {
    dir = await mkdtemp(path.join(tmpdir(), "kysely-migrate-busy-"));
    const target = { remote: false, env: undefined, persistTo: dir, config: "wrangler.toml" };
    const report = await usingD1(target, async (db) => {
      const primed = await runMigrations(db, { verb: "latest" }, { migrations: {}, analyser: sqliteWasmAnalyser() });
      if (primed.error) throw primed.error;
      // Another process's write transaction, as a second workerd's batch holds it.
      const other = new DatabaseSync(localD1File(dir));
      other.exec("begin immediate");
      const release = setTimeout(() => {
        other.exec("commit");
        other.close();
      }, 1_500);
      try {
        return await runMigrations(db, { verb: "latest" }, { migrations, analyser: sqliteWasmAnalyser() });
      } finally {
        clearTimeout(release);
        if (other.isOpen) other.close();
      }
    });

    expect(report.error).toBeUndefined();
    expect(report.results.map((result) => `${result.status} ${result.migrationName}`)).toEqual(NAMES.map((name) => `Success ${name}`));
  });

  it("two runners at once: one applies, the other says another run applied them (or, if it starts after, that nothing is left); neither fails", async () => {
    dir = await mkdtemp(path.join(tmpdir(), "kysely-migrate-two-runners-"));
    const run = async () => {
      const lines: string[] = [];
      const code = await kyselyMigrate(["latest", "--persist-to", dir], { out: (line) => lines.push(line), err: (line) => lines.push(`stderr: ${line}`) });
      return { code, lines };
    };

    const outcomes = await Promise.all([run(), run()]);

    const applied = { code: 0, lines: NAMES.map((name) => `applied  ${name}`) };
    const byAnother = { code: 0, lines: NAMES.map((name) => `applied by another run  ${name}`) };
    // Which one waits on the other's lock, and for how long, is the machine's: a runner that
    // reads the ledger only after the other committed truthfully finds nothing left to do.
    const nothingLeft = { code: 0, lines: ["nothing to do: already at the requested migration"] };
    const seen = outcomes.map((outcome) => ({ ...outcome, lines: outcome.lines.filter((line) => !line.startsWith("checksum")) }));
    const first = seen.findIndex((outcome) => JSON.stringify(outcome) === JSON.stringify(applied));
    expect(first, JSON.stringify(seen)).toBeGreaterThanOrEqual(0);
    expect([byAnother, nothingLeft]).toContainEqual(seen[1 - first]);
  });
});
