import type { StepMigration } from "./inject-failure";

/**
 * A test-only migration set (never part of migrations/index.ts), two
 * migrations written one statement per step, covering what runs hold: create
 * table (with cascading foreign keys), index, insert, update, alter table
 * add/drop column, drop table.
 */
export const librarySteps: Record<string, StepMigration> = {
  "20000101000000_create_library": {
    up: [
      (db) =>
        db.schema
          .createTable("author")
          .addColumn("id", "integer", (col) => col.primaryKey())
          .addColumn("name", "text", (col) => col.notNull())
          .execute(),
      (db) =>
        db.schema
          .createTable("book")
          .addColumn("id", "integer", (col) => col.primaryKey())
          .addColumn("authorId", "integer", (col) => col.notNull().references("author.id").onDelete("cascade"))
          .addColumn("title", "text", (col) => col.notNull())
          .execute(),
      (db) => db.schema.createIndex("book_authorId_idx").on("book").column("authorId").execute(),
      (db) => db.insertInto("author").values([{ id: 1, name: "Ursula" }, { id: 2, name: "Terry" }]).execute(),
      (db) =>
        db.insertInto("book").values([{ id: 1, authorId: 1, title: "Earthsea" }, { id: 2, authorId: 2, title: "Mort" }]).execute(),
    ],
    down: [(db) => db.schema.dropTable("book").execute(), (db) => db.schema.dropTable("author").execute()],
  },
  "20000102000000_add_isbn_and_tags": {
    up: [
      (db) => db.schema.alterTable("book").addColumn("isbn", "text").execute(),
      (db) => db.updateTable("book").set({ isbn: "978-0-00-000001-1" }).where("id", "=", 1).execute(),
      (db) =>
        db.schema
          .createTable("tag")
          .addColumn("id", "integer", (col) => col.primaryKey())
          .addColumn("bookId", "integer", (col) => col.notNull().references("book.id").onDelete("cascade"))
          .addColumn("label", "text", (col) => col.notNull())
          .execute(),
      (db) => db.schema.createIndex("tag_bookId_label_idx").unique().on("tag").columns(["bookId", "label"]).execute(),
      (db) => db.insertInto("tag").values({ id: 1, bookId: 1, label: "fantasy" }).execute(),
    ],
    down: [(db) => db.schema.dropTable("tag").execute(), (db) => db.schema.alterTable("book").dropColumn("isbn").execute()],
  },
};
