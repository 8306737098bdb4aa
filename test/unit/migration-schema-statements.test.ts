import { describe, expect, it } from "vitest";
import { parseSchemaStatement } from "../../src/db/migration/parse-schema-statement";

describe("parseSchemaStatement", () => {
  it.each([
    [`drop table "user"`, { kind: "drop-table", table: "user" }],
    [`DROP TABLE IF EXISTS main.[odd name]`, { kind: "drop-table", table: "odd name" }],
    [`-- why\n  drop table \`a"b\``, { kind: "drop-table", table: `a"b` }],
    [`drop table "say ""hi"""`, { kind: "drop-table", table: `say "hi"` }],
    [`alter table "user_new" rename to "user"`, { kind: "rename-table", from: "user_new", to: "user" }],
    [`alter table t rename column a to b`, undefined],
    [`drop index "x_idx"`, undefined],
    [`delete from "user"`, undefined],
  ])("%s", (sql, expected) => {
    expect(parseSchemaStatement(sql)).toEqual(expected);
  });

  it("reads each foreign key and its ON DELETE action from a create table", () => {
    const sql = `create table if not exists "session" ("id" text not null primary key, "userId" text not null references "user" ("id") on delete cascade, "orgId" integer references org(id) on update cascade on delete set null deferrable initially deferred, "planId" integer references "plan", foreign key ("a", "b") references pair ("x", "y") on delete restrict)`;

    expect(parseSchemaStatement(sql)).toEqual({
      kind: "create-table",
      table: "session",
      ifNotExists: true,
      references: [
        { parent: "user", onDelete: "CASCADE" },
        { parent: "org", onDelete: "SET NULL" },
        { parent: "plan", onDelete: "NO ACTION" },
        { parent: "pair", onDelete: "RESTRICT" },
      ],
    });
  });

  it("reads a foreign key added with a column", () => {
    expect(parseSchemaStatement(`alter table "invoice" add column "userId" text references "user" ("id") on delete cascade`)).toEqual({
      kind: "add-column",
      table: "invoice",
      references: [{ parent: "user", onDelete: "CASCADE" }],
    });
  });
});
