import { env } from "cloudflare:workers";
import { describe, expect, expectTypeOf, it } from "vitest";
import type { z } from "zod";
import codegenConfig from "../../.kysely-codegenrc.json";
import {
  BILLING_INTERVALS,
  DIRECT_DEBIT_TOKEN_STATUSES,
  LIVE_SUBSCRIPTION_STATUSES,
  PAYMENT_ATTEMPT_STATUSES,
  SUBSCRIPTION_STATUSES,
  type BillingInterval,
  type DirectDebitTokenStatus,
  type PaymentAttemptStatus,
  type SubscriptionStatus,
} from "../../src/db/billing-enums";
import type * as validation from "../../src/billing/billing-row-schemas";
import type { DB } from "../../src/db/generated";
import type * as rows from "../../src/db/billing-rows";
import { migrateToLatest } from "../support/migrate-to-latest";

// One list per enum-like column lives in src/billing/billing-enums.ts; the
// migration's CHECKs and the kysely-codegen overrides state it again. These
// tests fail when any copy drifts. The type-level ones fail `pnpm typecheck`.

const enumColumns = [
  { column: "subscription_plans.interval", check: "subscription_plans_interval_enum", values: BILLING_INTERVALS },
  { column: "user_subscriptions.status", check: "user_subscriptions_status_enum", values: SUBSCRIPTION_STATUSES },
  { column: "payment_attempts.status", check: "payment_attempts_status_enum", values: PAYMENT_ATTEMPT_STATUSES },
  { column: "direct_debit_tokens.status", check: "direct_debit_tokens_status_enum", values: DIRECT_DEBIT_TOKEN_STATUSES },
] as const;

const booleanColumns = ["subscription_plans.active", "user_subscriptions.cancelAtPeriodEnd", "direct_debit_tokens.isDefault"];

/** `"a" | "b"` → ["a", "b"] (the override's TypeScript source). */
function unionMembers(typeSource: string): string[] {
  return typeSource.split("|").map((member) => JSON.parse(member.trim()) as string);
}

/** The `in (…)` list of a named CHECK, as the migrated database holds it. */
async function checkedValues(table: string, check: string): Promise<string[]> {
  const { sql } = (await env.DB.prepare(`select sql from sqlite_master where name = ?`).bind(table).first<{ sql: string }>())!;
  const list = new RegExp(`constraint "${check}" check \\("[^"]+" in \\(([^)]*)\\)\\)`).exec(sql);
  if (!list) throw new Error(`no CHECK ${check} on ${table}`);
  return list[1]!.split(",").map((literal) => literal.trim().slice(1, -1).replaceAll("''", "'"));
}

describe("enum lists, codegen overrides and CHECKs agree", () => {
  it("the generated column types are exactly the enum unions, and booleans are 0 | 1", () => {
    expectTypeOf<DB["subscription_plans"]["interval"]>().toEqualTypeOf<BillingInterval>();
    expectTypeOf<DB["user_subscriptions"]["status"]>().toEqualTypeOf<SubscriptionStatus>();
    expectTypeOf<DB["payment_attempts"]["status"]>().toEqualTypeOf<PaymentAttemptStatus>();
    expectTypeOf<DB["direct_debit_tokens"]["status"]>().toEqualTypeOf<DirectDebitTokenStatus>();
    expectTypeOf<DB["subscription_plans"]["active"]>().toEqualTypeOf<0 | 1>();
    expectTypeOf<DB["user_subscriptions"]["cancelAtPeriodEnd"]>().toEqualTypeOf<0 | 1>();
    expectTypeOf<DB["direct_debit_tokens"]["isDefault"]>().toEqualTypeOf<0 | 1>();
  });

  it("what the zod schemas let through fits the Kysely insert and update types", () => {
    expectTypeOf<z.output<typeof validation.subscriptionPlanInsertSchema>>().toExtend<rows.NewSubscriptionPlan>();
    expectTypeOf<z.output<typeof validation.userSubscriptionInsertSchema>>().toExtend<rows.NewUserSubscription>();
    expectTypeOf<z.output<typeof validation.paymentAttemptInsertSchema>>().toExtend<rows.NewPaymentAttempt>();
    expectTypeOf<z.output<typeof validation.directDebitTokenInsertSchema>>().toExtend<rows.NewDirectDebitToken>();
    expectTypeOf<z.output<typeof validation.subscriptionPlanUpdateSchema>>().toExtend<rows.SubscriptionPlanUpdate>();
    expectTypeOf<z.output<typeof validation.userSubscriptionUpdateSchema>>().toExtend<rows.UserSubscriptionUpdate>();
    expectTypeOf<z.output<typeof validation.paymentAttemptUpdateSchema>>().toExtend<rows.PaymentAttemptUpdate>();
    expectTypeOf<z.output<typeof validation.directDebitTokenUpdateSchema>>().toExtend<rows.DirectDebitTokenUpdate>();
  });

  it.for(enumColumns)("$column: .kysely-codegenrc.json lists exactly the enum's values, in order", ({ column, values }) => {
    const overrides: Record<string, string> = codegenConfig.overrides.columns;
    expect(unionMembers(overrides[column]!)).toEqual([...values]);
  });

  it("booleans are overridden as 0 | 1", () => {
    const overrides: Record<string, string> = codegenConfig.overrides.columns;
    for (const column of booleanColumns) expect(overrides[column]).toBe("0 | 1");
  });

  it.for(enumColumns)("$column: the migration's CHECK allows exactly the enum's values", async ({ column, check, values }) => {
    await migrateToLatest(env.DB);
    expect(await checkedValues(column.split(".")[0]!, check)).toEqual([...values]);
  });

  it("live subscription statuses are the ones the partial unique index covers", async () => {
    await migrateToLatest(env.DB);
    const { sql } = (await env.DB.prepare(`select sql from sqlite_master where name = 'user_subscriptions_live_unique'`).first<{ sql: string }>())!;
    const ended = /"status" not in \(([^)]*)\)/.exec(sql)![1]!.split(",").map((literal) => literal.trim().slice(1, -1));
    expect(SUBSCRIPTION_STATUSES.filter((status) => !ended.includes(status))).toEqual([...LIVE_SUBSCRIPTION_STATUSES]);
  });
});
