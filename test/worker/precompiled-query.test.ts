import { env } from "cloudflare:workers";
import { sql, type Kysely } from "kysely";
import { beforeAll, describe, expect, it } from "vitest";
import { createDb } from "../../src/db/create-db";
import type { DB } from "../../src/db/generated";
import { precompile } from "../../src/db/precompiled-query";
import { migrateToLatest } from "../support/migrate-to-latest";

// A query compiled once per Kysely instance and run with each call's values,
// on a real local D1: same rows as building it per call, no cross-talk
// between concurrent calls, and a build that lets an argument shape the SQL
// is refused instead of silently reusing the first call's SQL.

const USERS = ["pre-user-a", "pre-user-b", "pre-user-c"];

beforeAll(async () => {
  await migrateToLatest(env.DB);
  const now = new Date().toISOString();
  for (const [i, id] of USERS.entries()) {
    await env.DB.prepare(`insert into "user" (id, name, email, emailVerified, createdAt, updatedAt) values (?, ?, ?, ?, ?, ?)`)
      .bind(id, `User ${i}`, `${id}@example.com`, i % 2, now, now)
      .run();
  }
});

const byEmailVerified = (db: Kysely<DB>, id: string) =>
  db.selectFrom("user").select(["id", "email"]).where("id", "=", id).where("emailVerified", "=", 1); // 1: a constant kept as compiled

describe("precompile", () => {
  it("builds once per Kysely instance, answers each call with its own values, and keeps constants", async () => {
    let builds = 0;
    const query = precompile((db: Kysely<DB>, id: string) => (builds++, byEmailVerified(db, id)));
    const db = createDb(env.DB);

    for (const id of USERS) expect(await query(db, id)).toEqual(await byEmailVerified(db, id).execute());
    expect(await query(db, "pre-user-b")).toEqual([{ id: "pre-user-b", email: "pre-user-b@example.com" }]);
    expect(await query(db, "pre-user-a")).toEqual([]); // emailVerified = 0: the constant still applies
    expect(builds).toBe(1);

    await query(createDb(env.DB), "pre-user-a");
    expect(builds).toBe(2);
  });

  it("concurrent calls with different values never see each other's rows", async () => {
    const query = precompile((db: Kysely<DB>, id: string) => db.selectFrom("user").select("id").where("id", "=", id));
    const db = createDb(env.DB);
    const ids = Array.from({ length: 60 }, (_, i) => USERS[i % USERS.length]!);
    const answers = await Promise.all(ids.map((id) => query(db, id)));
    expect(answers).toEqual(ids.map((id) => [{ id }]));
  });

  it("an argument used twice is passed both times", async () => {
    const query = precompile((db: Kysely<DB>, id: string) => db.selectFrom("user").select("id").where((eb) => eb.or([eb("id", "=", id), eb("email", "=", id)])));
    expect(await query(createDb(env.DB), "pre-user-c")).toEqual([{ id: "pre-user-c" }]);
  });

  it.each([
    ["chooses the shape", (db: Kysely<DB>, id: string) => (id === "x" ? db.selectFrom("user").select("id") : db.selectFrom("user").select("id").where("id", "=", "pre-user-a"))],
    ["inlines it into the SQL", (db: Kysely<DB>, id: string) => db.selectFrom("user").select("id").where("id", "=", sql.lit(id))],
    ["transforms it (case)", (db: Kysely<DB>, id: string) => db.selectFrom("user").select("id").where("id", "=", id.toLowerCase())],
    ["transforms it (trim)", (db: Kysely<DB>, id: string) => db.selectFrom("user").select("id").where("id", "=", id.trim())],
    ["does not use it", (db: Kysely<DB>, _id: string) => db.selectFrom("user").select("id").where("id", "=", "pre-user-a")],
  ])("refuses a build that %s, on its first call, before running anything", async (_name, build) => {
    const query = precompile(build);
    await expect(query(createDb(env.DB), "pre-user-a")).rejects.toThrow(/^precompile: /);
  });
});
