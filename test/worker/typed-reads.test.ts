import { env } from "cloudflare:workers";
import type { Selectable } from "kysely";
import { beforeAll, describe, expect, expectTypeOf, it } from "vitest";
import { createDb } from "../../src/db/create-db";
import type { Account, Session, User } from "../../src/db/generated";
import { signUp, type TestUser } from "../support/auth-session";
import { migrateToLatest } from "../support/migrate-to-latest";

/** Better Auth stores dates as `Date#toISOString()` text: it must parse back to itself. */
function expectIsoDate(value: string): void {
  expect(new Date(value).toISOString()).toBe(value);
}

// The generated types (src/db/generated.ts) describe what Better Auth really
// writes: typed Kysely reads of its rows, checked value by value.
describe("typed Kysely reads of the rows Better Auth wrote", () => {
  const db = createDb(env.DB);
  let margaret: TestUser;
  let signedUpAt: number;

  beforeAll(async () => {
    await migrateToLatest(env.DB);
    signedUpAt = Date.now();
    margaret = await signUp("margaret@example.com");
  });

  it("reads the user", async () => {
    const user = await db.selectFrom("user").selectAll().where("email", "=", margaret.email).executeTakeFirstOrThrow();

    expectTypeOf(user).toEqualTypeOf<Selectable<User>>();
    expect(user).toMatchObject({ id: margaret.id, email: "margaret@example.com", name: "margaret", emailVerified: 0, image: null });
    expectIsoDate(user.createdAt);
    expectIsoDate(user.updatedAt);
    expect(Date.parse(user.createdAt)).toBeGreaterThanOrEqual(signedUpAt);
  });

  it("reads the user's session, joined to its user", async () => {
    const rows = await db
      .selectFrom("session")
      .innerJoin("user", "user.id", "session.userId")
      .select(["session.id", "session.userId", "session.token", "session.expiresAt", "session.ipAddress", "user.email"])
      .where("session.userId", "=", margaret.id)
      .execute();

    expect(rows).toHaveLength(1);
    const session = rows[0]!;
    expectTypeOf(session.userId).toEqualTypeOf<Session["userId"]>();
    expectTypeOf(session.ipAddress).toEqualTypeOf<string | null>();
    expect(session).toMatchObject({ userId: margaret.id, email: margaret.email, ipAddress: margaret.ip });
    // The cookie holds `<token>.<signature>`.
    expect(decodeURIComponent(margaret.cookie.split("=")[1]!).split(".")[0]).toBe(session.token);
    expectIsoDate(session.expiresAt);
    expect(Date.parse(session.expiresAt)).toBeGreaterThan(Date.now());
  });

  it("reads the user's credential account", async () => {
    const account = await db.selectFrom("account").selectAll().where("userId", "=", margaret.id).executeTakeFirstOrThrow();

    expectTypeOf(account).toEqualTypeOf<Selectable<Account>>();
    expect(account).toMatchObject({
      userId: margaret.id,
      accountId: margaret.id,
      providerId: "credential",
      accessToken: null,
      refreshToken: null,
      idToken: null,
    });
    expect(account.password).toEqual(expect.any(String));
    expect(account.password).not.toContain(margaret.password);
    expectIsoDate(account.createdAt);
  });

  it("reads the rate limiter's counter as a number of milliseconds", async () => {
    const counter = await db
      .selectFrom("rateLimit")
      .select(["key", "count", "lastRequest"])
      .where("key", "=", `${margaret.ip}|/sign-up/email`)
      .executeTakeFirstOrThrow();

    expectTypeOf(counter.lastRequest).toEqualTypeOf<number>();
    expect(counter.count).toBe(1);
    expect(typeof counter.lastRequest).toBe("number");
    expect(counter.lastRequest).toBeGreaterThanOrEqual(signedUpAt);
  });
});
