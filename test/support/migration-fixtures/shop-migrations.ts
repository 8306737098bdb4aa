import { sql, type Kysely } from "kysely";
import type { Migration } from "kysely/migration";
import { rebuildTable } from "../../../src/db/migration/rebuild-table";

export const CREATE_SHOP = "20000701000000_create_shop";
export const REBUILD_SHOP = "20000702000000_rebuild_shop";

/**
 * A test-only registry (never part of migrations/index.ts): a parent `shop`
 * whose cascading child `item` has generated columns (virtual and stored),
 * then a declared {@link rebuildTable} of `shop`.
 */
export const shopMigrations: Record<string, Migration> = {
  [CREATE_SHOP]: {
    async up(db: Kysely<any>) {
      await db.schema.createTable("shop").addColumn("id", "integer", (col) => col.primaryKey()).addColumn("name", "text").execute();
      await db.schema
        .createTable("item")
        .addColumn("id", "integer", (col) => col.primaryKey())
        .addColumn("shopId", "integer", (col) => col.notNull().references("shop.id").onDelete("cascade"))
        .addColumn("priceMinor", "integer", (col) => col.notNull())
        .addColumn("priceLabel", "text", (col) => col.generatedAlwaysAs(sql`printf('%d.%02d', "priceMinor" / 100, "priceMinor" % 100)`))
        .addColumn("expensive", "integer", (col) => col.generatedAlwaysAs(sql`"priceMinor" > 10000`).stored())
        .execute();
    },
  },
  [REBUILD_SHOP]: {
    handlesChildrenOf: ["shop"],
    async up(db: Kysely<any>) {
      await rebuildTable(db, {
        table: "shop",
        columns: ["id", "name"],
        create: (name) =>
          db.schema
            .createTable(name)
            .addColumn("id", "integer", (col) => col.primaryKey())
            .addColumn("name", "text", (col) => col.notNull().defaultTo("")),
      });
    },
  } as Migration,
};
