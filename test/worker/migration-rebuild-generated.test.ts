import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { runMigrations } from "../support/run-migrations";
import { CREATE_SHOP, shopMigrations } from "../support/migration-fixtures/shop-migrations";
import { d1Reader, exactRows } from "../support/migration-fixtures/schema-snapshot";

const read = d1Reader(env.DB);

describe("rebuildTable with children that have generated columns", () => {
  it("puts every child row back (generated values recomputed, not inserted)", async () => {
    const created = await runMigrations(env.DB, { verb: "up" }, { migrations: shopMigrations });
    expect(created.results).toEqual([{ migrationName: CREATE_SHOP, direction: "Up", status: "Success" }]);
    await env.DB.batch([
      env.DB.prepare(`insert into "shop" values (1, 'corner')`),
      env.DB.prepare(`insert into "item" ("id", "shopId", "priceMinor") values (1, 1, 250), (2, 1, 12000)`),
    ]);
    const items = await exactRows(read, "item");

    const rebuilt = await runMigrations(env.DB, { verb: "latest" }, { migrations: shopMigrations, force: true });

    expect(rebuilt.error).toBeUndefined();
    expect(await exactRows(read, "item")).toEqual(items);
    expect(await exactRows(read, "shop")).toEqual([{ id: "1", name: "'corner'" }]);
  });
});
