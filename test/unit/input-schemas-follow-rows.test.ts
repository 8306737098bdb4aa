import { describe, expect, it } from "vitest";
import type * as z from "zod";
import { planInputSchema } from "../../src/billing/plan-input";
import { directDebitTokenFields } from "../../src/db/row-schemas/direct-debit-tokens";
import { subscriptionPlanFields } from "../../src/db/row-schemas/subscription-plans";
import { createTokenBody } from "../../src/routes/direct-debit-tokens";
import { createSubscriptionBody } from "../../src/routes/subscriptions";

// The request bodies state the stored columns' rules with the same column
// schemas as the row schemas, instead of picking them from the row schemas
// (which would bundle every column's rules into the Worker). Here each body
// field must accept and refuse exactly what its column does, on values at
// and around every limit.

const PROBES: unknown[] = [
  "", "a", " a", "a\0b", "pro-monthly", "-pro", "Pro", "EUR", "eur", "EURO", "1234", "123", "12a4", "MD000123",
  "x".repeat(32), "x".repeat(64), "x".repeat(65), "x".repeat(200), "x".repeat(201), "x".repeat(255), "x".repeat(256),
  "x".repeat(2_000), "x".repeat(2_001), "é".repeat(200), "😀".repeat(200), "day", "week", "month", "year", "fortnight",
  -1, 0, 1, 1.5, 365, 366, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 1, null, undefined, true, {},
];

/** The column's rule as a request field sees it: a field a request must send is the column's rule without `.nullish()`. */
function unwrapped(schema: z.ZodType, required: boolean): z.ZodType {
  return required ? (schema as z.ZodOptional<z.ZodNullable<z.ZodType>>).unwrap().unwrap() : schema;
}

const pairs: [string, z.ZodType, z.ZodType][] = [
  ...(["code", "name", "description", "amountMinor", "currency", "interval", "intervalCount", "trialDays"] as const).map(
    (field): [string, z.ZodType, z.ZodType] => [`plan ${field}`, planInputSchema.shape[field], subscriptionPlanFields.shape[field]],
  ),
  ["subscription planCode", createSubscriptionBody.shape.planCode, subscriptionPlanFields.shape.code],
  ["token mandateReference", createTokenBody.shape.mandateReference, unwrapped(directDebitTokenFields.shape.mandateReference, true)],
  ["token accountLast4", createTokenBody.shape.accountLast4, unwrapped(directDebitTokenFields.shape.accountLast4, true)],
  ["token bankName", createTokenBody.shape.bankName, directDebitTokenFields.shape.bankName],
];

describe("request body fields accept exactly what their column accepts", () => {
  it.each(pairs)("%s", (_name, field, column) => {
    // Plan text is trimmed before the column's rule applies (plan-input.ts), and a
    // plan's intervalCount and trialDays have defaults: compare on what the column is sent.
    for (const value of PROBES.filter((probe) => !(typeof probe === "string" && probe.trim() !== probe) && probe !== undefined)) {
      expect({ value, accepted: field.safeParse(value).success }).toEqual({ value, accepted: column.safeParse(value).success });
    }
  });
});
