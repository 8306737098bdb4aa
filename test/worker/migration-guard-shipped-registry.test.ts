import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { migrations } from "../../migrations/index";
import { runMigrations } from "../support/run-migrations";
import { UnsafeMigrationError } from "../../src/db/migration/unsafe-migration-error";

// Tests share this file's database and run in order.
describe("the guards on the shipped migrations", () => {
  it("let latest and a full revert of an empty database through", async () => {
    const up = await runMigrations(env.DB, { verb: "latest" }, { migrations });
    expect(up.error).toBeUndefined();

    const down = await runMigrations(env.DB, { verb: "down-all" }, { migrations });

    expect(down.error).toBeUndefined();
    expect(down.destructiveChanges).toEqual([]);
    expect(down.results.every((result) => result.status === "Success")).toBe(true);
  });

  it("refuse a revert that would drop rate-limit counters until forced", async () => {
    await runMigrations(env.DB, { verb: "latest" }, { migrations });
    await env.DB.prepare(`insert into "rateLimit" (id, key, count, lastRequest) values ('r1', '198.51.0.1/sign-up', 1, 1)`).run();

    const refused = await runMigrations(env.DB, { verb: "down-all" }, { migrations });

    expect(refused.error).toBeInstanceOf(UnsafeMigrationError);
    expect((refused.error as UnsafeMigrationError).changes).toMatchObject([{ kind: "drops-rows", table: "rateLimit", rows: 1 }]);
    expect(await env.DB.prepare(`select count(*) as n from "rateLimit"`).first("n")).toBe(1);

    const forced = await runMigrations(env.DB, { verb: "down-all" }, { migrations, force: true });

    expect(forced.error).toBeUndefined();
    expect(forced.backup?.sql).toContain(`insert into "rateLimit" ("id", "key", "count", "lastRequest") values ('r1', '198.51.0.1/sign-up', 1, 1);`);
  });
});
