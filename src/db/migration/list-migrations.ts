import { Kysely } from "kysely";
import type { Migration, MigrationInfo } from "kysely/migration";
import { ProjectD1Dialect } from "../d1-dialect";
import { createMigrator } from "./run-migrations";

/**
 * Every registered migration with when it was applied (`executedAt`), or
 * pending. Reads only.
 */
export async function listMigrations(
  database: D1Database,
  migrations: Record<string, Migration>,
): Promise<readonly MigrationInfo[]> {
  const db = new Kysely<any>({ dialect: new ProjectD1Dialect({ database }) });
  try {
    return await createMigrator(db, migrations).getMigrations();
  } finally {
    await db.destroy();
  }
}
