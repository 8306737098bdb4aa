import { migrations } from "../../migrations/index";
import { runMigrations } from "./run-migrations";

/** Brings the test's local D1 to the latest migration; fails the test loudly otherwise. */
export async function migrateToLatest(database: D1Database): Promise<void> {
  const report = await runMigrations(database, { verb: "latest" }, { migrations });
  if (report.error) throw report.error;
}
