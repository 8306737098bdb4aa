import { env } from "cloudflare:workers";
import { and, eq, is } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { SQLiteTable } from "drizzle-orm/sqlite-core";
import { beforeAll, describe, expect, expectTypeOf, it } from "vitest";
import { createDb } from "../../src/db/create-db";
import type * as rows from "../../src/db/billing-rows";
import * as schema from "../../src/db/schema";
import { signedInUser } from "../support/auth-session";
import { planRow, seedBilling } from "../support/billing-seed";
import { describeDatabaseTable, describeDrizzleTable, diffTables, type TableDescription } from "../support/drizzle-schema-diff";
import { migrateToLatest } from "../support/migrate-to-latest";

// Storage is shared by the tests of this file: migrated once in beforeAll.

const drizzleTables: SQLiteTable[] = Object.values(schema as Record<string, unknown>).filter((value) => is(value, SQLiteTable));
const byName = new Map(drizzleTables.map((table) => [describeDrizzleTable(table).name, table]));

async function databaseTableNames(): Promise<string[]> {
  const { results } = await env.DB.prepare(
    `select name from sqlite_master where type = 'table'
       and name not like '\\_cf\\_%' escape '\\' and name not like 'sqlite\\_%' escape '\\'
       and name not in ('kysely_migration', 'kysely_migration_lock')
     order by name`,
  ).all<{ name: string }>();
  return results.map((row) => row.name);
}

beforeAll(async () => {
  await migrateToLatest(env.DB);
});

describe("the Drizzle schema (src/db/schema) against the migrated database", () => {
  it("defines exactly the tables the migrations create", async () => {
    expect([...byName.keys()].sort()).toEqual(await databaseTableNames());
  });

  it.for([...byName.keys()].sort())("%s: same columns, types, nullability, defaults, keys, foreign keys, indexes and checks", async (name) => {
    const differences = diffTables(describeDrizzleTable(byName.get(name)!), await describeDatabaseTable(env.DB, name));
    expect(differences).toEqual([]);
  });

  it("reads partial indexes, actions and checks from the database (so agreement is not two empty lists)", async () => {
    const subscriptions = await describeDatabaseTable(env.DB, "user_subscriptions");
    expect(subscriptions.indexes.find((index) => index.name === "user_subscriptions_live_unique")).toEqual({
      name: "user_subscriptions_live_unique",
      unique: true,
      columns: ["userId", "planId"],
      where: "status not in ('canceled', 'incomplete_expired')",
    });
    expect(subscriptions.foreignKeys.map((fk) => `${fk.columns}→${fk.table}:${fk.onDelete}`)).toEqual([
      "planId→subscription_plans:RESTRICT",
      "userId→user:CASCADE",
    ]);
    expect(subscriptions.checks.find((check) => check.name === "user_subscriptions_period_order")?.expression).toBe(
      "currentPeriodEnd > currentPeriodStart",
    );
    const user = await describeDatabaseTable(env.DB, "user");
    expect(user.uniqueConstraints).toEqual([["email"]]);
    expect(user.columns.find((column) => column.name === "createdAt")).toEqual({
      name: "createdAt",
      type: "date",
      notNull: true,
      default: null,
      primaryKey: 0,
    });
  });
});

describe("the comparison reports a difference", () => {
  // A copy of a real table under another name, with one textual change, is
  // compared with the unchanged Drizzle table. Indexes are left out of the
  // copy (index names are global), so only index lines are expected besides.
  const tableMutations: { table: string; from: RegExp; to: string; expected: RegExp }[] = [
    { table: "subscription_plans", from: /"amountMinor" integer/, to: `"amountMinor" real`, expected: /^column amountMinor differs/ },
    { table: "subscription_plans", from: /"currency" text not null/, to: `"currency" text`, expected: /^column currency differs/ },
    { table: "subscription_plans", from: /"active" integer not null/, to: `"active" integer default 1 not null`, expected: /^column active differs/ },
    { table: "subscription_plans", from: /on delete set null/, to: "on delete cascade", expected: /^foreign key createdBy differs/ },
    { table: "user_subscriptions", from: /on delete restrict/, to: "", expected: /^foreign key planId differs/ },
    { table: "user_subscriptions", from: /"provider" text,/, to: `"provider" text unique,`, expected: /^unique constraint provider is in the database only/ },
    { table: "direct_debit_tokens", from: /'\[0-9\]\[0-9\]\[0-9\]\[0-9\]'/, to: "'[0-9][0-9][0-9]'", expected: /^check direct_debit_tokens_accountLast4_digits differs/ },
    { table: "payment_attempts", from: /'\*\[\^!-~\]\*'/, to: "'*[^ -~]*'", expected: /^check payment_attempts_idempotencyKey_format differs/ },
    { table: "payment_attempts", from: /,\s*constraint "payment_attempts_id_length" check \(length\("id"\) between 1 and 64\)/, to: "", expected: /^check payment_attempts_id_length is in Drizzle only/ },
    { table: "user", from: /"image" text,/, to: `"image" text, "nickname" text,`, expected: /^column nickname is in the database only/ },
  ];

  it.for(tableMutations)("$table with $from → $to", async ({ table, from, to, expected }) => {
    const { sql } = (await env.DB.prepare(`select sql from sqlite_master where name = ?`).bind(table).first<{ sql: string }>())!;
    expect(sql).toMatch(from);
    const copy = `altered_${table}`;
    await env.DB.prepare(sql.replace(/create table "[^"]+"/i, `create table "${copy}"`).replace(from, to)).run();
    try {
      const differences = diffTables(describeDrizzleTable(byName.get(table)!), await describeDatabaseTable(env.DB, copy))
        .map((line) => line.slice(`${copy}: `.length))
        .filter((line) => !line.startsWith("index "));
      expect(differences).toHaveLength(1);
      expect(differences[0]).toMatch(expected);
    } finally {
      await env.DB.prepare(`drop table "${copy}"`).run();
    }
  });

  const indexMutations: { name: string; mutate: (index: TableDescription["indexes"][number]) => void; expected: RegExp }[] = [
    { name: "a partial index without its WHERE", mutate: (index) => void (index.where = null), expected: /^user_subscriptions: index user_subscriptions_live_unique differs/ },
    { name: "a WHERE with one status less", mutate: (index) => void (index.where = "status not in ('canceled')"), expected: /differs/ },
    { name: "a unique index made plain", mutate: (index) => void (index.unique = false), expected: /differs/ },
    { name: "index columns swapped", mutate: (index) => void index.columns.reverse(), expected: /differs/ },
    { name: "an index renamed", mutate: (index) => void (index.name = "user_subscriptions_live_idx"), expected: /is in Drizzle only/ },
  ];

  it.for(indexMutations)("for $name", async ({ mutate, expected }) => {
    const drizzleSide = describeDrizzleTable(schema.userSubscriptions);
    mutate(drizzleSide.indexes.find((index) => index.name === "user_subscriptions_live_unique")!);
    const differences = diffTables(drizzleSide, await describeDatabaseTable(env.DB, "user_subscriptions"));
    expect(differences.length).toBeGreaterThan(0);
    expect(differences[0]).toMatch(expected);
  });
});

describe("reading billing rows with drizzle(env.DB)", () => {
  it("returns the rows Kysely returns, typed like Kysely's row types", async () => {
    const ada = await signedInUser("ada@example.com");
    const seeded = await seedBilling(env.DB, [ada.id]);
    const db = drizzle(env.DB, { schema });

    const subscriptions = await db
      .select()
      .from(schema.userSubscriptions)
      .where(eq(schema.userSubscriptions.userId, ada.id))
      .orderBy(schema.userSubscriptions.id);
    expectTypeOf(subscriptions).toEqualTypeOf<rows.UserSubscriptionRow[]>();
    const kysely = createDb(env.DB);
    expect(subscriptions).toEqual(
      await kysely.selectFrom("user_subscriptions").selectAll().where("userId", "=", ada.id).orderBy("id").execute(),
    );
    expect(subscriptions.map((row) => row.id).sort()).toEqual(seeded.subscriptions.map((row) => row.id).sort());

    const live = await db
      .select({ plan: schema.subscriptionPlans, status: schema.userSubscriptions.status })
      .from(schema.userSubscriptions)
      .innerJoin(schema.subscriptionPlans, eq(schema.subscriptionPlans.id, schema.userSubscriptions.planId))
      .where(and(eq(schema.userSubscriptions.userId, ada.id), eq(schema.userSubscriptions.status, "active")));
    expectTypeOf(live[0]!.plan).toEqualTypeOf<rows.SubscriptionPlanRow>();
    expect(live).toEqual([{ plan: seeded.plans[0], status: "active" }]);

    const attempts = await db.select().from(schema.paymentAttempts).where(eq(schema.paymentAttempts.userId, ada.id));
    expectTypeOf(attempts).toEqualTypeOf<rows.PaymentAttemptRow[]>();
    expect(attempts).toHaveLength(seeded.attempts.length);
    const tokens = await db.select().from(schema.directDebitTokens).where(eq(schema.directDebitTokens.isDefault, 1));
    expectTypeOf(tokens).toEqualTypeOf<rows.DirectDebitTokenRow[]>();
    expect(tokens.map((token) => token.id)).toEqual(seeded.tokens.filter((token) => token.isDefault === 1).map((token) => token.id));
  });

  it("writes a row Kysely reads back unchanged", async () => {
    const plan = planRow({ code: "drizzle-written", description: "inserted through Drizzle" });
    await drizzle(env.DB, { schema }).insert(schema.subscriptionPlans).values(plan);
    expect(await createDb(env.DB).selectFrom("subscription_plans").selectAll().where("id", "=", plan.id).executeTakeFirst()).toEqual(plan);
  });
});
