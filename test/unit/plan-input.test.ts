import { describe, expect, it } from "vitest";
import { planInputSchema, planPatchSchema } from "../../src/billing/plan-input";

const plan = { code: "pro-monthly", name: "Pro", amountMinor: 1500, currency: "EUR", interval: "month" };

describe("plan names and descriptions from an operator", () => {
  it.each([
    ["spaces only", "   "],
    ["a tab and a newline", "\t\n"],
    ["nothing", ""],
  ])("a name of %s is refused", (_name, name) => {
    expect(planInputSchema.safeParse({ ...plan, name }).success).toBe(false);
    expect(planPatchSchema.safeParse({ name }).success).toBe(false);
  });

  it("a name and a description are stored trimmed", () => {
    expect(planInputSchema.parse({ ...plan, name: "  Pro  ", description: " Billed monthly\n" })).toMatchObject({ name: "Pro", description: "Billed monthly" });
    expect(planPatchSchema.parse({ name: " Pro 2 " })).toEqual({ name: "Pro 2" });
  });

  it("a blank description is refused, not stored as blank", () => {
    expect(planInputSchema.safeParse({ ...plan, description: "  " }).success).toBe(false);
  });
});
