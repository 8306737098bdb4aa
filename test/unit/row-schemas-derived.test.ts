import { getTableConfig } from "drizzle-orm/sqlite-core";
import { createInsertSchema } from "drizzle-zod";
import type { Insertable, Updateable } from "kysely";
import { describe, expect, expectTypeOf, it } from "vitest";
import * as z from "zod";
import codegenConfig from "../../.kysely-codegenrc.json";
import type {
  BillingInterval,
  DirectDebitTokenStatus,
  PaymentAttemptStatus,
  SubscriptionStatus,
  WebhookEventOutcome,
} from "../../src/db/billing-enums";
import type { DB } from "../../src/db/generated";
import * as schema from "../../src/db/schema";
import * as derived from "../support/derived-row-schemas";
import { BILLING_ROW_SCHEMAS, columnRule } from "../support/derived-row-schemas";

// The row schemas the Worker uses (src/db/row-schemas/, namespace zod) are
// written by hand only where a CHECK says more than a column's type; this file
// proves everything else is what drizzle-zod derives from the Drizzle tables
// (which test/worker/billing-drizzle-schema.test.ts proves equal to the
// migrated database). The column rules themselves are proven against D1's
// CHECKs by test/worker/billing-constraints.test.ts, through drizzle-zod's
// insert and update schemas refined by them (test/support/derived-row-schemas.ts).

interface ColumnShape {
  optional: boolean;
  nullable: boolean;
  /** "string", "integer", or "enum(a|b)": the base type, CHECK refinements aside. */
  type: string;
}

/** What a column's schema accepts before refinements: its base type, nullability and optionality. */
function describeColumn(schema: z.ZodType): ColumnShape {
  const accepts = (value: unknown) => schema.safeParse(value).success;
  const def = columnRule(schema)._zod.def as unknown as { type: string; format?: string; values?: unknown[]; entries?: Record<string, string> };
  let type: string;
  if (def.type === "string") type = "string";
  else if (def.type === "number" && def.format === "safeint") type = "integer";
  // A literal union of integers (0 | 1) is an integer column a CHECK narrows.
  else if (def.type === "literal" && def.values!.every((value) => Number.isSafeInteger(value))) type = "integer";
  else if (def.type === "enum") type = `enum(${Object.values(def.entries!).join("|")})`;
  else type = `unsupported ${def.type}`;
  return { optional: accepts(undefined), nullable: accepts(null), type };
}

function describeRow(fields: z.ZodObject): Record<string, ColumnShape> {
  return Object.fromEntries(Object.entries(fields.shape).map(([column, rule]) => [column, describeColumn(rule as z.ZodType)]));
}

const tables = Object.entries(BILLING_ROW_SCHEMAS).map(([name, { table, fields }]) => ({ name, table, fields }));

describe("row schemas are drizzle-zod's, refined where a CHECK says more", () => {
  it("every billing table of the Drizzle schema has a row schema", () => {
    const billingTables = Object.values(schema)
      .filter((value) => typeof value === "object" && value !== null && Symbol.for("drizzle:IsDrizzleTable") in value)
      .map((table) => getTableConfig(table as typeof schema.subscriptionPlans).name)
      .filter((name) => !["user", "session", "account", "verification", "rateLimit"].includes(name));
    expect(Object.keys(BILLING_ROW_SCHEMAS).sort()).toEqual(billingTables.sort());
  });

  it.for(tables)("$name: same columns, base types, nullability and optionality as createInsertSchema", ({ table, fields }) => {
    expect(describeRow(fields)).toEqual(describeRow(createInsertSchema(table)));
  });

  it.for(tables)("$name: strict, so an unknown column is refused", ({ fields }) => {
    expect(fields.safeParse({ notAColumn: 1 }).error?.issues.some((issue) => issue.code === "unrecognized_keys")).toBe(true);
  });

  const mutations: { name: string; fields: z.ZodObject }[] = [
    { name: "a nullable column made required", fields: BILLING_ROW_SCHEMAS.subscription_plans.fields.extend({ description: z.string() }) },
    { name: "a required column made nullish", fields: BILLING_ROW_SCHEMAS.subscription_plans.fields.extend({ name: z.string().nullish() }) },
    { name: "a column left out", fields: BILLING_ROW_SCHEMAS.subscription_plans.fields.omit({ trialDays: true }) },
    { name: "a column too many", fields: BILLING_ROW_SCHEMAS.subscription_plans.fields.extend({ nickname: z.string() }) },
    { name: "an enum value less", fields: BILLING_ROW_SCHEMAS.subscription_plans.fields.extend({ interval: z.enum(["day", "week", "month"]) }) },
    { name: "text for an integer", fields: BILLING_ROW_SCHEMAS.subscription_plans.fields.extend({ amountMinor: z.string() }) },
    { name: "a default column made required", fields: BILLING_ROW_SCHEMAS.payment_attempts.fields.extend({ refundDue: z.literal([0, 1]) }) },
  ];

  it.for(mutations)("the comparison reports $name", ({ fields }) => {
    const table = "refundDue" in fields.shape ? schema.paymentAttempts : schema.subscriptionPlans;
    expect(describeRow(fields)).not.toEqual(describeRow(createInsertSchema(table)));
  });

  it.for(tables)("$name: .kysely-codegenrc.json copies no enum list (pnpm codegen takes them from the Drizzle tables)", ({ table }) => {
    const overrides: Record<string, string> = codegenConfig.overrides.columns;
    const { name, columns } = getTableConfig(table);
    const enumColumns = columns.filter((column) => column.enumValues?.length).map((column) => `${name}.${column.name}`);
    expect(enumColumns.filter((column) => column in overrides)).toEqual([]);
  });

  it("the generated column types are exactly the enum unions, and booleans are 0 | 1 (checked by pnpm typecheck)", () => {
    expectTypeOf<DB["subscription_plans"]["interval"]>().toEqualTypeOf<BillingInterval>();
    expectTypeOf<DB["user_subscriptions"]["status"]>().toEqualTypeOf<SubscriptionStatus>();
    expectTypeOf<DB["payment_attempts"]["status"]>().toEqualTypeOf<PaymentAttemptStatus>();
    expectTypeOf<DB["direct_debit_tokens"]["status"]>().toEqualTypeOf<DirectDebitTokenStatus>();
    expectTypeOf<DB["billing_webhook_events"]["outcome"]>().toEqualTypeOf<WebhookEventOutcome>();
    expectTypeOf<DB["subscription_plans"]["active"]>().toEqualTypeOf<0 | 1>();
    expectTypeOf<DB["user_subscriptions"]["cancelAtPeriodEnd"]>().toEqualTypeOf<0 | 1>();
    expectTypeOf<DB["direct_debit_tokens"]["isDefault"]>().toEqualTypeOf<0 | 1>();
  });

  it("what the schemas let through fits the Kysely insert and update types (checked by pnpm typecheck)", () => {
    expectTypeOf<z.output<typeof derived.subscriptionPlanInsertSchema>>().toExtend<Insertable<DB["subscription_plans"]>>();
    expectTypeOf<z.output<typeof derived.userSubscriptionInsertSchema>>().toExtend<Insertable<DB["user_subscriptions"]>>();
    expectTypeOf<z.output<typeof derived.paymentAttemptInsertSchema>>().toExtend<Insertable<DB["payment_attempts"]>>();
    expectTypeOf<z.output<typeof derived.directDebitTokenInsertSchema>>().toExtend<Insertable<DB["direct_debit_tokens"]>>();
    expectTypeOf<z.output<typeof BILLING_ROW_SCHEMAS.billing_webhook_events.fields>>().toExtend<Insertable<DB["billing_webhook_events"]>>();
    expectTypeOf<z.output<typeof derived.subscriptionPlanUpdateSchema>>().toExtend<Updateable<DB["subscription_plans"]>>();
    expectTypeOf<z.output<typeof derived.userSubscriptionUpdateSchema>>().toExtend<Updateable<DB["user_subscriptions"]>>();
    expectTypeOf<z.output<typeof derived.paymentAttemptUpdateSchema>>().toExtend<Updateable<DB["payment_attempts"]>>();
    expectTypeOf<z.output<typeof derived.directDebitTokenUpdateSchema>>().toExtend<Updateable<DB["direct_debit_tokens"]>>();
  });
});
