import { migrations } from "../../migrations/index";
import { runMigrations } from "./run-migrations";

/** What a run of every migration leaves in an empty D1: schema statements in creation order, then rows. */
interface MigratedImage {
  statements: { sql: string; params: unknown[] }[];
}

// One real run per isolate; later empty databases get its image replayed. The
// runs themselves are what the migration test files exercise; the other files
// only need a migrated database, and a run costs ~1 s of CPU (the analyser
// explains every statement on the scratch D1).
let image: Promise<MigratedImage | undefined> | undefined;

/**
 * Brings the test's local D1 to the latest migration; fails the test loudly
 * otherwise. An empty database gets, after the isolate's first real run, a
 * replay of what that run left (the same `sqlite_master` SQL in the same
 * order, the same ledger rows): see `test/worker/migrate-to-latest.test.ts`.
 */
export async function migrateToLatest(database: D1Database): Promise<void> {
  if (!(await isEmpty(database))) return runForReal(database);
  const replay = await image;
  if (replay) {
    await database.batch(replay.statements.map(({ sql, params }) => database.prepare(sql).bind(...params)));
    return;
  }
  await runForReal(database);
  // Captured before the caller writes anything.
  await (image ??= captureImage(database));
}

async function runForReal(database: D1Database): Promise<void> {
  const report = await runMigrations(database, { verb: "latest" }, { migrations });
  if (report.error) throw report.error;
}

const OWN_OBJECTS = `name not like 'sqlite\\_%' escape '\\' and name not like '\\_cf\\_%' escape '\\'`;

async function isEmpty(database: D1Database): Promise<boolean> {
  const row = await database.prepare(`select count(*) as n from sqlite_master where ${OWN_OBJECTS}`).first<{ n: number }>();
  return row!.n === 0;
}

/** The image of a freshly migrated database, or undefined when a replay could differ (a trigger on a table with rows). */
async function captureImage(database: D1Database): Promise<MigratedImage | undefined> {
  const { results: objects } = await database
    .prepare(`select type, name, tbl_name as tableName, sql from sqlite_master where sql is not null and ${OWN_OBJECTS} order by rowid`)
    .all<{ type: string; name: string; tableName: string; sql: string }>();
  const statements: MigratedImage["statements"] = objects.map(({ sql }) => ({ sql, params: [] }));
  for (const { name } of objects.filter((object) => object.type === "table")) {
    const quoted = `"${name.replaceAll('"', '""')}"`;
    const { results: rows } = await database.prepare(`select * from ${quoted}`).all<Record<string, unknown>>();
    if (rows.length === 0) continue;
    // Rows go in after the triggers exist: one that fired on them would make the replay differ.
    if (objects.some((object) => object.type === "trigger" && object.tableName === name)) return undefined;
    for (const row of rows) {
      const columns = Object.keys(row);
      statements.push({
        sql: `insert into ${quoted} (${columns.map((c) => `"${c.replaceAll('"', '""')}"`).join(", ")}) values (${columns.map(() => "?").join(", ")})`,
        params: columns.map((c) => row[c]),
      });
    }
  }
  return { statements };
}
