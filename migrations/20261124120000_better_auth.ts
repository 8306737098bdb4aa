import { sql, type Kysely } from "kysely";

/**
 * Better Auth 1.7's own SQLite schema (email + password, database rate
 * limiting), as its `getMigrations()` would create it: camelCase columns,
 * ISO-8601 text dates (declared `date`), 0/1 booleans, text ids.
 *
 * Every statement is `if not exists`, so a database whose tables Better Auth
 * created adopts this migration unchanged, rows included.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("user")
    .ifNotExists()
    .addColumn("id", "text", (col) => col.notNull().primaryKey())
    .addColumn("name", "text", (col) => col.notNull())
    .addColumn("email", "text", (col) => col.notNull().unique())
    .addColumn("emailVerified", "integer", (col) => col.notNull())
    .addColumn("image", "text")
    .addColumn("createdAt", "date", (col) => col.notNull())
    .addColumn("updatedAt", "date", (col) => col.notNull())
    .execute();

  await db.schema
    .createTable("session")
    .ifNotExists()
    .addColumn("id", "text", (col) => col.notNull().primaryKey())
    .addColumn("expiresAt", "date", (col) => col.notNull())
    .addColumn("token", "text", (col) => col.notNull().unique())
    .addColumn("createdAt", "date", (col) => col.notNull())
    .addColumn("updatedAt", "date", (col) => col.notNull())
    .addColumn("ipAddress", "text")
    .addColumn("userAgent", "text")
    .addColumn("userId", "text", (col) => col.notNull().references("user.id").onDelete("cascade"))
    .execute();

  await db.schema
    .createTable("account")
    .ifNotExists()
    .addColumn("id", "text", (col) => col.notNull().primaryKey())
    .addColumn("accountId", "text", (col) => col.notNull())
    .addColumn("providerId", "text", (col) => col.notNull())
    .addColumn("userId", "text", (col) => col.notNull().references("user.id").onDelete("cascade"))
    .addColumn("accessToken", "text")
    .addColumn("refreshToken", "text")
    .addColumn("idToken", "text")
    .addColumn("accessTokenExpiresAt", "date")
    .addColumn("refreshTokenExpiresAt", "date")
    .addColumn("scope", "text")
    .addColumn("password", "text")
    .addColumn("createdAt", "date", (col) => col.notNull())
    .addColumn("updatedAt", "date", (col) => col.notNull())
    .execute();

  await db.schema
    .createTable("verification")
    .ifNotExists()
    .addColumn("id", "text", (col) => col.notNull().primaryKey())
    .addColumn("identifier", "text", (col) => col.notNull())
    .addColumn("value", "text", (col) => col.notNull())
    .addColumn("expiresAt", "date", (col) => col.notNull())
    .addColumn("createdAt", "date", (col) => col.notNull())
    .addColumn("updatedAt", "date", (col) => col.notNull())
    .execute();

  // Better Auth's rate limiter keeps its counters here (storage: "database"),
  // because a Worker's memory is per isolate and forgets between requests.
  await db.schema
    .createTable("rateLimit")
    .ifNotExists()
    .addColumn("id", "text", (col) => col.notNull().primaryKey())
    .addColumn("key", "text", (col) => col.notNull().unique())
    .addColumn("count", "integer", (col) => col.notNull())
    .addColumn("lastRequest", "bigint", (col) => col.notNull())
    .execute();

  // Sessions and accounts of a user: sign-in, list sessions, delete user.
  await db.schema.createIndex("session_userId_idx").ifNotExists().on("session").column("userId").execute();
  await db.schema.createIndex("account_userId_idx").ifNotExists().on("account").column("userId").execute();
  // Looking up a verification token (e-mail verification, password reset).
  await db.schema
    .createIndex("verification_identifier_idx")
    .ifNotExists()
    .on("verification")
    .column("identifier")
    .execute();
}

/**
 * Drops the auth schema, but only from an empty database: dropping `user`
 * would delete every user, and with them (cascade) every session, account and
 * billing row.
 */
export async function down(db: Kysely<any>): Promise<void> {
  const { count } = await db
    .selectFrom("user")
    .select(sql<number>`count(*)`.as("count"))
    .executeTakeFirstOrThrow();
  if (count > 0) {
    throw new Error(
      `refusing to revert the auth schema: "user" holds ${count} row(s) and dropping it deletes every user; delete them first if that is really what you want`,
    );
  }
  await db.schema.dropTable("rateLimit").execute();
  await db.schema.dropTable("verification").execute();
  await db.schema.dropTable("account").execute();
  await db.schema.dropTable("session").execute();
  await db.schema.dropTable("user").execute();
}
