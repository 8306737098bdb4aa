import type { Kysely } from "kysely";
import { sql } from "kysely";
import type { Migration } from "kysely/migration";

/**
 * A test-only registry (never part of migrations/index.ts): one table that
 * references itself (a category tree) and has generated columns, the shape a
 * row backup must restore in one go; its down drops it.
 */
export const categoryMigrations: Record<string, Migration> = {
  "20000601000000_create_categories": {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable("category")
        .addColumn("id", "integer", (col) => col.primaryKey())
        .addColumn("parentId", "integer", (col) => col.references("category.id").onDelete("cascade"))
        .addColumn("name", "text", (col) => col.notNull())
        .addColumn("slug", "text", (col) => col.generatedAlwaysAs(sql`lower("name")`))
        .addColumn("nameLength", "integer", (col) => col.generatedAlwaysAs(sql`length("name")`).stored())
        .execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropTable("category").execute();
    },
  },
};
