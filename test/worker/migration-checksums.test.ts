import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import type { Migration } from "kysely/migration";
import { RunRefusedError } from "../../scripts/lib/run-refused-error";
import { runSafeguards } from "../../scripts/lib/run-safeguards";
import { captureChecksum } from "../../src/db/migration/capture-checksum";
import { ledgerEntries } from "../../src/db/migration/ledger-entries";
import { CHECKSUM_TABLE, checksumOf, type MigrationChecksum } from "../../src/db/migration/migration-checksums";
import { runMigrations, scratchDatabase, type MigrationCommand } from "../support/run-migrations";
import { d1ScratchAnalyser } from "../../src/db/migration/d1-scratch-engine";
import { stepMigrations, withInjectedFailure } from "../support/migration-fixtures/inject-failure";
import { librarySteps } from "../support/migration-fixtures/library-migrations";
import { d1Reader, ledgerSnapshot, schemaSnapshot } from "../support/migration-fixtures/schema-snapshot";

// Checksums of applied migrations: recorded in the run's own batch, compared
// before every run, refusing an applied migration whose `up` changed.

const read = d1Reader(env.DB);
const FIRST = "20000101000000_create_library";
const SECOND = "20000102000000_add_isbn_and_tags";
const library = stepMigrations(librarySteps);
// The first migration as edited after it was applied: its index covers one more column.
const edited = stepMigrations({
  ...librarySteps,
  [FIRST]: {
    ...librarySteps[FIRST]!,
    up: librarySteps[FIRST]!.up.map((step, index) =>
      index === 2 ? (db) => db.schema.createIndex("book_authorId_idx").on("book").columns(["authorId", "title"]).execute() : step,
    ),
  },
});

/** Each migration's checksum, captured from a preview on the empty database (what the CLI caches). */
async function checksumsOf(migrations: Record<string, Migration>): Promise<Record<string, MigrationChecksum>> {
  const { statements, error } = await runMigrations(env.DB, { verb: "latest" }, { migrations, mode: "preview" });
  if (error) throw error;
  const entries = ledgerEntries(statements);
  const checksums: Record<string, MigrationChecksum> = {};
  let from = 0;
  for (const entry of entries) {
    checksums[entry.migrationName] = await checksumOf(statements.slice(from, entry.index + 1));
    from = entry.index + 1;
  }
  return checksums;
}

async function run(command: MigrationCommand, migrations: Record<string, Migration>, options: { checksums: Record<string, MigrationChecksum>; acceptEdited?: string[]; takeBookmark?: () => Promise<never> | Promise<any> }) {
  const logged: string[] = [];
  const safeguards = runSafeguards(env.DB, { acceptEdited: [], ...options, log: (line) => logged.push(line), now: () => new Date("2026-12-01T21:00:00.000Z") });
  const report = await runMigrations(env.DB, command, { migrations, force: true, beforeCommit: safeguards.beforeCommit });
  return { report, logged, summary: safeguards.summary() };
}

async function recorded() {
  const tables = await read(`select name from sqlite_master where name = '${CHECKSUM_TABLE}'`);
  return tables.length ? read(`select name, up_sha256, source from ${CHECKSUM_TABLE} order by name`) : [];
}

async function state() {
  return { schema: await schemaSnapshot(read), ledger: await ledgerSnapshot(read), checksums: await recorded() };
}

describe("checksums of applied migrations", () => {
  let original: Record<string, MigrationChecksum>;
  let changed: Record<string, MigrationChecksum>;

  beforeEach(async () => {
    // Every test starts from an empty database.
    const tables = await read(`select name from sqlite_master where type = 'table' and name not like '\\_cf\\_%' escape '\\' and name not like 'sqlite\\_%' escape '\\'`);
    await env.DB.batch([`pragma defer_foreign_keys = on`, ...tables.map(({ name }) => `drop table "${String(name)}"`)].map((sql) => env.DB.prepare(sql)));
    original ??= await checksumsOf(library);
    changed ??= await checksumsOf(edited);
  });

  it("the edit changes the checksum of the edited migration only", () => {
    expect(changed[FIRST]!.sha256).not.toBe(original[FIRST]!.sha256);
    expect(changed[SECOND]).toEqual(original[SECOND]);
    expect(original[FIRST]!.upSql).toContain(`create index "book_authorId_idx" on "book" ("authorId");\n`);
    expect(original[FIRST]!.upSql).not.toContain("kysely_migration");
  });

  it("a run records the checksum of each migration it applies, in its own batch", async () => {
    const { report } = await run({ verb: "latest" }, library, { checksums: original });

    expect(report.error).toBeUndefined();
    expect(await recorded()).toEqual([
      { name: FIRST, up_sha256: original[FIRST]!.sha256, source: "applied" },
      { name: SECOND, up_sha256: original[SECOND]!.sha256, source: "applied" },
    ]);
  });

  it.each<MigrationCommand>([{ verb: "latest" }, { verb: "up" }, { verb: "down" }, { verb: "down-all" }])(
    "$verb refuses when an applied migration was edited since, naming it and what changed; nothing is applied",
    async (command) => {
      await run({ verb: "to", target: FIRST }, library, { checksums: original });
      const before = await state();

      const { report } = await run(command, edited, { checksums: changed });

      expect(report.error).toBeInstanceOf(RunRefusedError);
      const [line, howToProceed] = (report.error as RunRefusedError).lines;
      expect(line).toBe(
        `error: ${FIRST} was edited after it was applied: line 3 of its up statements changed at column 55: was create index "book_authorId_idx" on "book" ("authorId");, now create index "book_authorId_idx" on "book" ("authorId", "title"); (checksum recorded 2026-12-01T21:00:00.000Z)`,
      );
      expect(howToProceed).toMatch(new RegExp(`run again with --accept-edited ${FIRST}$`));
      expect(await state()).toEqual(before);
    },
  );

  it("--accept-edited lets the run through and records the new checksum as accepted", async () => {
    await run({ verb: "to", target: FIRST }, library, { checksums: original });

    const { report, summary } = await run({ verb: "latest" }, edited, { checksums: changed, acceptEdited: [FIRST] });

    expect(report.error).toBeUndefined();
    expect(summary).toEqual([`accepted edit      ${FIRST} (its new checksum replaces the recorded one)`]);
    expect(await recorded()).toEqual([
      { name: FIRST, up_sha256: changed[FIRST]!.sha256, source: "accepted" },
      { name: SECOND, up_sha256: changed[SECOND]!.sha256, source: "applied" },
    ]);
  });

  it("--accept-edited of a migration that was not edited refuses the run", async () => {
    await run({ verb: "to", target: FIRST }, library, { checksums: original });
    const before = await state();

    const { report } = await run({ verb: "latest" }, library, { checksums: original, acceptEdited: [FIRST] });

    expect((report.error as RunRefusedError).lines[0]).toBe(
      `error: --accept-edited ${FIRST}: not an applied migration whose up statements changed; there is nothing to accept`,
    );
    expect(await state()).toEqual(before);
  });

  it("migrations applied before checksums were kept get theirs from the next run, even one with nothing to do", async () => {
    expect((await runMigrations(env.DB, { verb: "latest" }, { migrations: library })).error).toBeUndefined();
    expect(await recorded()).toEqual([]);

    const { report, summary } = await run({ verb: "latest" }, library, { checksums: original });

    expect(report.error).toBeUndefined();
    expect(report.results).toEqual([]);
    expect(summary).toEqual([FIRST, SECOND].map((name) => `recorded checksum  ${name} (applied before checksums were kept)`));
    expect((await recorded()).map((row) => [row.name, row.source])).toEqual([[FIRST, "recorded"], [SECOND, "recorded"]]);
  });

  it("a failed run records no checksum; a reverting run deletes the reverted migration's", async () => {
    const failed = await run({ verb: "latest" }, withInjectedFailure(librarySteps, "up", 7), { checksums: original });
    expect(failed.report.error).toBeDefined();
    expect(await recorded()).toEqual([]);

    await run({ verb: "latest" }, library, { checksums: original });
    await run({ verb: "down" }, library, { checksums: original });

    expect((await recorded()).map((row) => row.name)).toEqual([FIRST]);
  });

  it("a remote run takes its bookmark only when it applies or reverts something, and refuses without one", async () => {
    const bookmark = { database: "billing", bookmark: "00000085-0000024c-00004c6d-8e61117bf38d7adb71b934ebbf891683", restoreCommand: "wrangler d1 time-travel restore billing --bookmark=00000085-0000024c-00004c6d-8e61117bf38d7adb71b934ebbf891683" };
    let taken = 0;
    const takeBookmark = async () => (taken++, bookmark);

    const refused = await run({ verb: "latest" }, library, { checksums: original, takeBookmark: async () => Promise.reject(new Error("wrangler exited 1: not logged in")) });
    expect((refused.report.error as RunRefusedError).lines).toEqual([
      "error: no Time Travel bookmark could be taken before this remote run: wrangler exited 1: not logged in",
      "  to proceed: fix that (e.g. 'wrangler login'), or run again with --no-bookmark (then no exact restore point is noted)",
    ]);
    expect((await ledgerSnapshot(read)).migrations).toEqual([]);

    const applied = await run({ verb: "latest" }, library, { checksums: original, takeBookmark });
    expect(applied.report.error).toBeUndefined();
    expect(applied.logged).toEqual([
      `bookmark ${bookmark.bookmark} (Time Travel, taken before this run)`,
      `  to restore the database as it was before this run, and lose every write made after it: ${bookmark.restoreCommand}`,
    ]);
    const idle = await run({ verb: "latest" }, library, { checksums: original, takeBookmark });
    expect(idle.logged).toEqual([]);
    expect(taken).toBe(1);
  });

  it("a migration whose values change from one capture to the next is checksummed without them, so it still matches later", async () => {
    const seeded: Record<string, Migration> = {
      ...library,
      "20000103000000_seed_plan": {
        up: async (db) => {
          await db.schema.createTable("plan").addColumn("id", "text", (col) => col.primaryKey()).addColumn("createdAt", "text").execute();
          await db.insertInto("plan").values({ id: crypto.randomUUID(), createdAt: new Date().toISOString() }).execute();
        },
      },
    };
    const captureAll = async () => {
      const captured = [];
      for (const name of Object.keys(seeded).sort()) captured.push(await captureChecksum(env.DB, seeded, name, d1ScratchAnalyser(scratchDatabase)));
      await env.DB.batch(["drop table plan", "drop table tag", "drop table book", "drop table author", "delete from kysely_migration"].map((q) => env.DB.prepare(q)));
      return captured.map((entry) => ("error" in entry ? entry : { sha256: entry.checksum.sha256, volatile: entry.volatile, upSql: entry.checksum.upSql }));
    };

    const first = await captureAll();
    const again = await captureAll();

    expect(first.map((entry) => "volatile" in entry && entry.volatile)).toEqual([false, false, true]);
    expect(again).toEqual(first);
    expect((first[0] as { upSql: string }).upSql).toContain(`values (?, ?), (?, ?)\n-- parameters: [1,"Ursula",2,"Terry"];`);
    expect((first[2] as { upSql: string }).upSql).toContain(`insert into "plan" ("id", "createdAt") values (?, ?);`);
  });
});
