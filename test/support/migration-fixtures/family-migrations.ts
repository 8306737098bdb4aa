import { sql, type Kysely } from "kysely";
import type { Migration } from "kysely/migration";
import { rebuildTable } from "../../../src/db/migration/rebuild-table";

export const CREATE_FAMILY = "20000401000000_create_family";
export const REBUILD_AUTHOR = "20000402000000_rebuild_author";

/**
 * A test-only schema (never part of migrations/index.ts): a parent `author`
 * with a child of every kind — `book` (ON DELETE CASCADE) with its own
 * cascading child `review`, `fan_note` (SET NULL) and `loan` (NO ACTION).
 */
const createFamily: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable("author")
      .addColumn("id", "integer", (col) => col.primaryKey())
      .addColumn("name", "text", (col) => col.notNull())
      .execute();
    await db.schema
      .createTable("book")
      .addColumn("id", "integer", (col) => col.primaryKey())
      .addColumn("authorId", "integer", (col) => col.notNull().references("author.id").onDelete("cascade"))
      .addColumn("title", "text", (col) => col.notNull())
      .execute();
    await db.schema
      .createTable("review")
      .addColumn("id", "integer", (col) => col.primaryKey())
      .addColumn("bookId", "integer", (col) => col.notNull().references("book.id").onDelete("cascade"))
      .addColumn("stars", "integer", (col) => col.notNull())
      .execute();
    await db.schema
      .createTable("fan_note")
      .addColumn("id", "integer", (col) => col.primaryKey())
      .addColumn("authorId", "integer", (col) => col.references("author.id").onDelete("set null"))
      .addColumn("text", "text", (col) => col.notNull())
      .execute();
    await db.schema
      .createTable("loan")
      .addColumn("id", "integer", (col) => col.primaryKey())
      .addColumn("authorId", "integer", (col) => col.notNull().references("author.id"))
      .execute();
  },
};

/** The new `author`: adds a NOT NULL column with a default, which SQLite cannot add to a referenced table in place and keep the check. */
function createNewAuthor(db: Kysely<any>, name: string) {
  return db.schema
    .createTable(name)
    .addColumn("id", "integer", (col) => col.primaryKey())
    .addColumn("name", "text", (col) => col.notNull().check(sql`length(name) > 0`))
    .addColumn("country", "text", (col) => col.notNull().defaultTo("unknown"));
}

/** The textbook SQLite rebuild (create, copy, drop, rename): on D1 its drop cascades into the children. */
const naiveRebuild: Migration = {
  async up(db: Kysely<any>) {
    await createNewAuthor(db, "author_new").execute();
    await sql`insert into "author_new" ("id", "name") select "id", "name" from "author"`.execute(db);
    await db.schema.dropTable("author").execute();
    await db.schema.alterTable("author_new").renameTo("author").execute();
  },
};

/** The same rebuild through {@link rebuildTable}, declared to the parent-table guard. */
const safeRebuild: Migration & { handlesChildrenOf: readonly string[] } = {
  handlesChildrenOf: ["author"],
  async up(db: Kysely<any>) {
    await rebuildTable(db, { table: "author", columns: ["id", "name"], create: (name) => createNewAuthor(db, name) });
  },
};

/** Registries: the family, then one way of rebuilding `author`. */
export const familyMigrations = {
  createOnly: { [CREATE_FAMILY]: createFamily },
  naiveRebuild: { [CREATE_FAMILY]: createFamily, [REBUILD_AUTHOR]: naiveRebuild },
  undeclaredSafeRebuild: { [CREATE_FAMILY]: createFamily, [REBUILD_AUTHOR]: { up: safeRebuild.up } },
  safeRebuild: { [CREATE_FAMILY]: createFamily, [REBUILD_AUTHOR]: safeRebuild },
} satisfies Record<string, Record<string, Migration>>;
