/**
 * Better Auth's tables for Drizzle, exactly as the baseline migration
 * (migrations/20261124120000_better_auth.ts) creates them, plus their Kysely
 * row types. The migration is the source of truth; a test compares these
 * definitions with the migrated database and fails on any difference.
 *
 * Columns keep the database's representation (ISO-8601 strings, 0/1
 * integers), so Drizzle and Kysely return the same row shapes.
 *
 * @example
 * ```ts
 * const db = drizzle(env.DB, { schema })
 * const ada = await db.select().from(user).where(eq(user.email, "ada@example.com")).get()
 * ```
 */
import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import type { Insertable, Selectable, Updateable } from "kysely";
import type { DB } from "../generated";
import { bigintNumber, isoDate } from "./column-types";

export const user = sqliteTable("user", {
  id: text("id").primaryKey().notNull(),
  name: text("name").notNull(),
  email: text("email").notNull().unique(),
  emailVerified: integer("emailVerified").notNull(),
  image: text("image"),
  createdAt: isoDate("createdAt").notNull(),
  updatedAt: isoDate("updatedAt").notNull(),
});

export const session = sqliteTable(
  "session",
  {
    id: text("id").primaryKey().notNull(),
    expiresAt: isoDate("expiresAt").notNull(),
    token: text("token").notNull().unique(),
    createdAt: isoDate("createdAt").notNull(),
    updatedAt: isoDate("updatedAt").notNull(),
    ipAddress: text("ipAddress"),
    userAgent: text("userAgent"),
    userId: text("userId")
      .notNull()
      .references(() => user.id, { onDelete: "cascade" }),
  },
  (table) => [index("session_userId_idx").on(table.userId)],
);

export const account = sqliteTable(
  "account",
  {
    id: text("id").primaryKey().notNull(),
    accountId: text("accountId").notNull(),
    providerId: text("providerId").notNull(),
    userId: text("userId")
      .notNull()
      .references(() => user.id, { onDelete: "cascade" }),
    accessToken: text("accessToken"),
    refreshToken: text("refreshToken"),
    idToken: text("idToken"),
    accessTokenExpiresAt: isoDate("accessTokenExpiresAt"),
    refreshTokenExpiresAt: isoDate("refreshTokenExpiresAt"),
    scope: text("scope"),
    password: text("password"),
    createdAt: isoDate("createdAt").notNull(),
    updatedAt: isoDate("updatedAt").notNull(),
  },
  (table) => [index("account_userId_idx").on(table.userId)],
);

export const verification = sqliteTable(
  "verification",
  {
    id: text("id").primaryKey().notNull(),
    identifier: text("identifier").notNull(),
    value: text("value").notNull(),
    expiresAt: isoDate("expiresAt").notNull(),
    createdAt: isoDate("createdAt").notNull(),
    updatedAt: isoDate("updatedAt").notNull(),
  },
  (table) => [index("verification_identifier_idx").on(table.identifier)],
);

export const rateLimit = sqliteTable("rateLimit", {
  id: text("id").primaryKey().notNull(),
  key: text("key").notNull().unique(),
  count: integer("count").notNull(),
  lastRequest: bigintNumber("lastRequest").notNull(),
});

export type UserRow = Selectable<DB["user"]>;
export type NewUser = Insertable<DB["user"]>;
export type UserUpdate = Updateable<DB["user"]>;

export type SessionRow = Selectable<DB["session"]>;
export type NewSession = Insertable<DB["session"]>;
export type SessionUpdate = Updateable<DB["session"]>;

export type AccountRow = Selectable<DB["account"]>;
export type NewAccount = Insertable<DB["account"]>;
export type AccountUpdate = Updateable<DB["account"]>;

export type VerificationRow = Selectable<DB["verification"]>;
export type NewVerification = Insertable<DB["verification"]>;
export type VerificationUpdate = Updateable<DB["verification"]>;

export type RateLimitRow = Selectable<DB["rateLimit"]>;
export type NewRateLimit = Insertable<DB["rateLimit"]>;
export type RateLimitUpdate = Updateable<DB["rateLimit"]>;
