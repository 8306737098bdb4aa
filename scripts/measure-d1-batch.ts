/**
 * `pnpm bench:d1-batch`: the largest batch local D1 accepts, measured.
 *
 * On a throwaway local D1 (a temp `--persist-to`, deleted afterwards), through
 * `getPlatformProxy` as the CLI reaches it, sends one `batch()` of N inserts of
 * 100-byte rows for N = 1,000, 2,000, 4,000, … until a batch fails or takes over
 * `--max-seconds` (default 60); then single statements of growing size and
 * growing bound-parameter counts. Prints what was accepted and how long it
 * took; asserts nothing (docs/migrations.md, "Large runs", quotes its output).
 *
 * @example
 * ```sh
 * corepack pnpm -s bench:d1-batch --max-seconds 30
 * ```
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { BATCH_LIMITS } from "../src/db/migration/batch-limits";
import { exitWithError } from "./lib/exit-with-error";
import { usingD1 } from "./lib/using-d1";

const ROW = "x".repeat(100);

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { "max-seconds": { type: "string", default: "60" } } });
  const maxSeconds = Number(values["max-seconds"]);
  if (!(maxSeconds > 0)) throw new Error("--max-seconds takes a positive number, e.g. --max-seconds 30");
  const persistTo = await mkdtemp(path.join(os.tmpdir(), "measure-d1-batch-"));
  try {
    await usingD1({ remote: false, env: undefined, persistTo, config: "wrangler.toml" }, async (database) => {
      await database.exec(`create table "measure" ("id" integer primary key, "body" text)`);
      console.log(`local D1 via getPlatformProxy, ${os.cpus().length} cores; inserts of ${ROW.length}-byte rows, one batch() each`);
      console.log("| Statements | SQL bytes | Time | Outcome |\n| --- | --- | --- | --- |");
      let largest: { statements: number; bytes: number; seconds: number } | undefined;
      for (let statements = 1_000; ; statements *= 2) {
        const batch = Array.from({ length: statements }, () => database.prepare(`insert into "measure" ("body") values ('${ROW}')`));
        const bytes = statements * `insert into "measure" ("body") values ('${ROW}')`.length;
        const rowsBefore = await countRows(database);
        const { seconds, error } = await timed(() => database.batch(batch));
        // A lost answer (`fetch failed`) is not a refusal when the rows are there.
        const committed = error ? ((await countRows(database)) - rowsBefore === statements ? " (committed anyway)" : " (nothing committed)") : "";
        console.log(`| ${statements.toLocaleString("en")} | ${bytes.toLocaleString("en")} | ${seconds.toFixed(1)} s | ${error ?? "accepted"}${committed} |`);
        if (error) break;
        largest = { statements, bytes, seconds };
        if (seconds > maxSeconds) break;
      }
      console.log("\n| One statement | Outcome |\n| --- | --- |");
      for (const bytes of [BATCH_LIMITS.statementBytes, 1_000_000, 10_000_000]) {
        const body = "x".repeat(bytes - 50);
        const { error } = await timed(() => database.prepare(`insert into "measure" ("body") values ('${body}')`).run());
        console.log(`| ${bytes.toLocaleString("en")} bytes of SQL | ${error ?? "accepted"} |`);
      }
      for (const count of [BATCH_LIMITS.boundParameters, BATCH_LIMITS.boundParameters + 1, 1_000]) {
        const { error } = await timed(() =>
          database.prepare(`insert into "measure" ("body") values ${Array.from({ length: count }, () => "(?)").join(", ")}`).bind(...Array.from({ length: count }, () => "p")).run(),
        );
        console.log(`| ${count} bound parameters | ${error ?? "accepted"} |`);
      }
      console.log(
        largest
          ? `\nlargest batch accepted: ${largest.statements.toLocaleString("en")} statements, ${largest.bytes.toLocaleString("en")} bytes of SQL, in ${largest.seconds.toFixed(1)} s; the runner's ceiling is ${BATCH_LIMITS.batchStatements.toLocaleString("en")} statements per run`
          : "\nno batch accepted",
      );
    });
  } finally {
    await rm(persistTo, { recursive: true, force: true });
  }
}

async function countRows(database: D1Database): Promise<number> {
  const read = async () => Number((await database.prepare(`select count(*) as count from "measure"`).first<{ count: number }>())?.count ?? 0);
  // After a large batch the proxy's kept-alive connection may be closed ("fetch failed: other side closed"); a read can be sent again.
  return read().catch(read);
}

async function timed(task: () => Promise<unknown>): Promise<{ seconds: number; error?: string }> {
  const start = performance.now();
  try {
    await task();
    return { seconds: (performance.now() - start) / 1000 };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { seconds: (performance.now() - start) / 1000, error: `refused: ${message.split("\n")[0]!.slice(0, 120)}` };
  }
}

main().then(
  () => process.exit(0),
  (error) => exitWithError(error),
);
