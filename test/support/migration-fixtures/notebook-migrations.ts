import type { Kysely } from "kysely";
import type { Migration } from "kysely/migration";

/**
 * A test-only registry (never part of migrations/index.ts): one migration that
 * creates two empty tables, a parent and a cascading child, with columns of
 * every storage class; its down drops them. Tests seed the rows.
 */
export const notebookMigrations: Record<string, Migration> = {
  "20000301000000_create_notebooks": {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable("notebook")
        .addColumn("id", "integer", (col) => col.primaryKey())
        .addColumn("title", "text", (col) => col.notNull())
        .execute();
      await db.schema
        .createTable("note")
        .addColumn("id", "integer", (col) => col.primaryKey())
        .addColumn("notebookId", "integer", (col) => col.notNull().references("notebook.id").onDelete("cascade"))
        .addColumn("body", "text")
        .addColumn("weight", "real")
        .addColumn("checksum", "blob")
        .addColumn("sequence", "integer")
        .execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropTable("note").execute();
      await db.schema.dropTable("notebook").execute();
    },
  },
};
